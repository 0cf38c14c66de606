"""Asking position/count/length questions and scoring the replies: shared by evaluate and train's validation."""

import random
from collections import Counter, defaultdict

from strawberry.answers import parse_answer
from strawberry.inference import generate_replies
from strawberry.prompts import render_prompt
from strawberry.stats import mcnemar_exact, wilson_interval

TASKS = ("position", "count", "length")


def pick_shots(val: list[dict], k: int, seed: int) -> dict[str, list[dict]]:
    """k worked examples per task, from val words (never test words); the same for base and tuned."""
    rng = random.Random(seed)
    by_task = defaultdict(list)
    for record in val:
        by_task[record["meta"]["task"]].append(record)
    return {task: rng.sample(by_task[task], k) if k else [] for task in TASKS}


def sample_per_task(records: list[dict], n_per_task: int | None, seed: int, exclude_words: set[str] = frozenset()
                    ) -> list[dict]:  # fmt: skip
    """Up to n questions per task, a seeded sample (all when n is None), skipping excluded words."""
    rng = random.Random(seed)
    out = []
    for task in TASKS:
        rows = [r for r in records if r["meta"]["task"] == task and r["meta"]["word"] not in exclude_words]
        out += rows if n_per_task is None or n_per_task >= len(rows) else rng.sample(rows, n_per_task)
    return out


def ask(model, tokenizer, questions: list[dict], shots: dict[str, list[dict]], template_kwargs: dict,
        generation: dict, batch_size: int, seed: int, desc: str) -> list[dict]:  # fmt: skip
    """Generate a reply to each question and score it: one row per question, for error analysis."""
    prompts = [render_prompt(tokenizer, q, shots[q["meta"]["task"]], template_kwargs) for q in questions]
    replies = generate_replies(model, tokenizer, prompts, generation, batch_size, seed, desc)
    rows = []
    for question, reply in zip(questions, replies):
        task, expected = question["meta"]["task"], question["output"]
        parsed = parse_answer(task, reply)
        rows.append({"question": question["instruction"], "expected": expected, "reply": reply,
                     "strict": parsed.strict, "lenient": parsed.lenient, "correct_strict": parsed.strict == expected,
                     "correct": parsed.lenient == expected, "meta": question["meta"]})  # fmt: skip
    return rows


def accuracy(rows: list[dict]) -> dict:
    n = len(rows)
    correct = sum(r["correct"] for r in rows)
    low, high = wilson_interval(correct, n)
    return {"accuracy": correct / n if n else 0.0, "ci_low": low, "ci_high": high, "n": n,
            "strict_accuracy": sum(r["correct_strict"] for r in rows) / n if n else 0.0,
            "format_rate": sum(r["lenient"] is not None for r in rows) / n if n else 0.0}  # fmt: skip


def chance(task: str, questions: list[dict]) -> float:
    """Chance baseline: position -> a random letter of the word; count/length -> always the majority answer."""
    if not questions:
        return 0.0
    if task == "position":
        return sum(q["meta"]["word"].count(q["output"]) / len(q["meta"]["word"]) for q in questions) / len(questions)
    return Counter(q["output"] for q in questions).most_common(1)[0][1] / len(questions)


def balanced_counts(rows: list[dict], seed: int, counts: tuple[str, ...] = ("0", "1", "2", "3")) -> list[dict]:
    """Count questions balanced over true counts 0-3 (as many of each as the rarest has)."""
    by_count = defaultdict(list)
    for r in rows:
        if r["meta"]["task"] == "count" and r["expected"] in counts:
            by_count[r["expected"]].append(r)
    n = min((len(by_count[c]) for c in counts), default=0)
    rng = random.Random(seed)
    return [r for c in counts for r in rng.sample(by_count[c], n)] if n else []


def compare(base: list[dict], tuned: list[dict]) -> dict:
    """Tuned minus base on the same questions, with the exact McNemar p-value."""
    return {"delta": accuracy(tuned)["accuracy"] - accuracy(base)["accuracy"],
            "mcnemar_p": mcnemar_exact([r["correct"] for r in base], [r["correct"] for r in tuned])}  # fmt: skip


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
        value = r["expected"] if key == "true_count" and r["meta"]["task"] == "count" else BREAKDOWNS[key](r["meta"])
        if value is not None:
            groups[str(value)].append(r["correct"])
    order = sorted(groups, key=lambda v: (0, int(v), "") if v.isdigit() else (1, 0, v))
    return {v: sum(groups[v]) / len(groups[v]) for v in order}
