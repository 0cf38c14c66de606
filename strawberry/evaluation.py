"""Asking position/count/length questions and scoring the replies: shared by evaluate and train's validation.

Questions are sampled stratified (position: first/middle/last, count: true count 0/1/2/3+), and every accuracy
is reported beside the constant strategies that a model could follow without knowing any letter.
"""

import math
import random
from collections import Counter, defaultdict

from strawberry.answer_modes import read_reply
from strawberry.answers import COUNT_CLASSES, POSITION_CATEGORIES, count_class
from strawberry.inference import generate_replies
from strawberry.prompts import render_prompt
from strawberry.stats import mcnemar_exact, wilson_interval

TASKS = ("position", "count", "length")
CLASSES = {"position": POSITION_CATEGORIES, "count": COUNT_CLASSES}  # the strata a task is sampled and reported by


def question_class(task: str, meta: dict, expected: str) -> str | None:
    """The stratum of a question: position -> first/middle/last; count -> true count 0/1/2/3+; length -> None."""
    if task == "position":
        return meta["position_category"]
    if task == "count":
        return count_class(expected)
    return None


def is_hard(task: str, meta: dict, expected: str) -> bool | None:
    """Whether no constant strategy gets the question right: position -> the answer is neither the word's first
    nor its last letter; count -> the true count is 2 or more. None for length (no such subset)."""
    if task == "position":
        word = meta["word"].lower()
        return expected.lower() not in (word[0], word[-1])
    if task == "count":
        return int(expected) >= 2
    return None


def pick_shots(val: list[dict], k: int, seed: int) -> dict[str, list[dict]]:
    """k worked examples per task, from val words (never test words); the same for base and tuned."""
    return shot_draws(val, k, seed, 1)[0]


def shot_draws(val: list[dict], k: int, seed: int, n_draws: int) -> list[dict[str, list[dict]]]:
    """n independent draws of k worked examples per task (draw d from seed + d; draw 0 is pick_shots')."""
    return [_draw(val, k, seed + d) for d in range(n_draws if k else 1)]


def _draw(val: list[dict], k: int, seed: int) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    by_task = defaultdict(list)
    for record in val:
        by_task[record["meta"]["task"]].append(record)
    return {task: rng.sample(by_task[task], k) if k else [] for task in TASKS}


def sample_per_task(records: list[dict], n_per_task: int | dict[str, int | None] | None, seed: int,
                    exclude_words: set[str] = frozenset()) -> list[dict]:  # fmt: skip
    """Up to n questions per task (one n for all, or per task; None = all), skipping excluded words; a seeded
    sample stratified by question class, as equal per class as the pool allows, so that no constant answer scores
    well by accident."""
    rng = random.Random(seed)
    out = []
    for task in TASKS:
        n = n_per_task.get(task) if isinstance(n_per_task, dict) else n_per_task
        if isinstance(n_per_task, dict) and task not in n_per_task:
            continue
        rows = [r for r in records if r["meta"]["task"] == task and r["meta"]["word"] not in exclude_words]
        if n is None or n >= len(rows):
            out += rows
            continue
        strata = defaultdict(list)
        for r in rows:
            strata[question_class(task, r["meta"], r["output"])].append(r)
        quota = _equal_quota({c: len(v) for c, v in sorted(strata.items(), key=lambda kv: str(kv[0]))}, n)
        out += [r for c, n in quota.items() for r in rng.sample(strata[c], n)]
    return out


def _equal_quota(available: dict, n: int) -> dict:
    """n split over strata as equally as their sizes allow (a small stratum gives its share to the others)."""
    quota = dict.fromkeys(available, 0)
    while n > 0:
        open_ = [c for c in available if quota[c] < available[c]]
        if not open_:
            break
        share, extra = divmod(n, len(open_))
        for i, c in enumerate(open_):
            add = min(share + (i < extra), available[c] - quota[c])
            quota[c] += add
            n -= add
    return quota


def ask(model, tokenizer, questions: list[dict], shots: dict[str, list[dict]] | list[dict[str, list[dict]]],
        template_kwargs: dict, generation: dict, batch_size: int, seed: int, desc: str, samples: int = 1,
        mode: str = "direct") -> list[dict]:  # fmt: skip
    """Generate a reply to each question (`samples` replies each, under sampling) and score it: one row per reply,
    in question order, for error analysis. `shots` is one draw of worked examples per task, or several draws: then
    a task's questions take the draws in turn, so that a k-shot accuracy does not rest on one draw. `mode` is the
    answer mode the questions (and shots) are asked in (strawberry.answer_modes): it says how replies are read."""
    draws = shots if isinstance(shots, list) else [shots]
    position_in_task: dict[str, int] = defaultdict(int)
    draw_of = []
    for q in questions:
        draw_of.append(position_in_task[q["meta"]["task"]] % len(draws))
        position_in_task[q["meta"]["task"]] += 1
    prompts = [render_prompt(tokenizer, q, draws[d][q["meta"]["task"]], template_kwargs)
               for q, d in zip(questions, draw_of)]  # fmt: skip
    replies = [""] * (len(questions) * samples)
    # one task and draw's prompts share the system prompt and worked examples: a prefix cached once
    for task, d in dict.fromkeys((q["meta"]["task"], d) for q, d in zip(questions, draw_of)):
        index = [i * samples + j for i, q in enumerate(questions) if q["meta"]["task"] == task and draw_of[i] == d
                 for j in range(samples)]  # fmt: skip
        label = f"{desc} ({task}{f', draw {d + 1}' if len(draws) > 1 else ''})"
        texts = generate_replies(model, tokenizer, [prompts[i // samples] for i in index], generation, batch_size,
                                 seed, label)  # fmt: skip
        for i, text in zip(index, texts):
            replies[i] = text
    rows = []
    for i, reply in enumerate(replies):
        question = questions[i // samples]
        task, expected = question["meta"]["task"], question["output"]
        parsed = read_reply(task, reply, mode)
        rows.append({"question": question["instruction"], "expected": expected, "reply": reply, "sample": i % samples,
                     "mode": mode, "draw": draw_of[i // samples], "strict": parsed.strict, "lenient": parsed.lenient,
                     "correct_strict": parsed.strict == expected.lower(), "correct": parsed.lenient == expected.lower(),
                     "meta": question["meta"]})  # fmt: skip
    return rows


def per_question(rows: list[dict], key: str = "correct") -> list[float]:
    """Mean of `key` over each question's samples (rows are grouped by question in order)."""
    groups: list[list[bool]] = []
    for r in rows:
        if r.get("sample", 0) == 0:
            groups.append([])
        groups[-1].append(r[key])
    return [sum(v) / len(v) for v in groups]


def accuracy(rows: list[dict]) -> dict:
    """Accuracy with a 95% interval over questions: Wilson for one reply per question; under sampling (k replies
    per question) the mean over all replies with a normal interval on the per-question means, which accounts for
    the replies to one question being correlated."""
    scores = per_question(rows)
    n = len(scores)
    if not n:
        return {"accuracy": 0.0, "ci_low": 0.0, "ci_high": 1.0, "n": 0, "strict_accuracy": 0.0, "format_rate": 0.0}
    mean = sum(scores) / n
    if len(rows) == n:
        low, high = wilson_interval(round(sum(scores)), n)
    else:
        sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / max(n - 1, 1))
        low, high = max(0.0, mean - 1.96 * sd / math.sqrt(n)), min(1.0, mean + 1.96 * sd / math.sqrt(n))
    return {"accuracy": mean, "ci_low": low, "ci_high": high, "n": n,
            "strict_accuracy": sum(per_question(rows, "correct_strict")) / n,
            "format_rate": sum(r["lenient"] is not None for r in rows) / len(rows)}  # fmt: skip


def strategies(task: str, questions: list[dict]) -> dict[str, float]:
    """Accuracy of the simple strategies on these questions: position -> always the first letter, always the last
    letter, a random letter of the word; count -> always 1, always 0, always the majority answer; length -> always
    the majority answer."""
    if not questions:
        return {}
    n = len(questions)
    if task == "position":
        words = [(q["meta"]["word"].lower(), q["output"].lower()) for q in questions]
        return {"first_letter": sum(a == w[0] for w, a in words) / n,
                "last_letter": sum(a == w[-1] for w, a in words) / n,
                "random_letter": sum(w.count(a) / len(w) for w, a in words) / n}  # fmt: skip
    majority = Counter(q["output"] for q in questions).most_common(1)[0][1] / n
    if task == "count":
        return {"always_1": sum(q["output"] == "1" for q in questions) / n,
                "always_0": sum(q["output"] == "0" for q in questions) / n, "majority": majority}  # fmt: skip
    return {"majority": majority}


def compare(base: list[dict], tuned: list[dict]) -> dict:
    """Tuned minus base on the same questions, with the exact McNemar p-value (on per-question majority
    correctness under sampling)."""
    b, t = per_question(base), per_question(tuned)
    return {"delta": accuracy(tuned)["accuracy"] - accuracy(base)["accuracy"],
            "mcnemar_p": mcnemar_exact([x > 0.5 for x in b], [x > 0.5 for x in t])}  # fmt: skip


def asked_token_length(meta: dict) -> int | None:
    """Length of the token holding the asked position (position questions)."""
    if meta["task"] != "position":
        return None
    end = 0
    for piece in meta["token_split"]:
        end += len(piece)
        if meta["position"] <= end:
            return len(piece)
    return None


BREAKDOWNS = {
    "word_length": lambda m: m["length"],
    "position": lambda m: m["position_category"],
    "true_count": lambda m: None,  # filled from the expected answer (count questions)
    "repeated_letters": lambda m: "yes" if len(set(m["word"])) < len(m["word"]) else "no",
    "tokens_per_word": lambda m: m["n_tokens"],
    "asked_token_length": asked_token_length,
}


def breakdown(rows: list[dict], key: str) -> dict[str, float]:
    """Accuracy by one property of the question (see BREAKDOWNS)."""
    groups = defaultdict(list)
    for r in rows:
        if key == "true_count":
            value = count_class(r["expected"]) if r["meta"]["task"] == "count" else None
        else:
            value = BREAKDOWNS[key](r["meta"])
        if value is not None:
            groups[str(value)].append(r["correct"])
    order = sorted(groups, key=lambda v: (0, int(v), "") if v.isdigit() else (1, 0, v))
    return {v: sum(groups[v]) / len(groups[v]) for v in order}
