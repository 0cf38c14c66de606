"""Asking a model questions and scoring each reply: worked-example draws from val, the stratified sample of
questions, and `ask` (batched generation, replies read in the question's answer mode). Shared by evaluation and
train's validation."""

import random
from collections import defaultdict

from strawberry.answer_modes import UNSEEN_PREFIX, read_reply, worked_reply_limits
from strawberry.inference import generate_replies
from strawberry.prompts import render_prompt
from strawberry.tasks import EVAL_TASKS, question_class
from strawberry.tasks.common import equal_quota, template_values


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
    return {task: rng.sample(by_task[task], k) if k else [] for task in EVAL_TASKS}


def sample_per_task(records: list[dict], n_per_task: int | dict[str, int | None] | None, seed: int,
                    exclude_words: set[str] = frozenset(), classes: dict[str, list[str]] | None = None
                    ) -> list[dict]:  # fmt: skip
    """Up to n questions per task (one n for all, or per task; None = all), skipping excluded words; a seeded
    sample stratified by question class, as equal per class as the pool allows, so that no constant answer scores
    well by accident. `classes` keeps some classes of a task only (the study asks middle-letter positions)."""
    rng = random.Random(seed)
    out = []
    for task in EVAL_TASKS:
        n = n_per_task.get(task) if isinstance(n_per_task, dict) else n_per_task
        if isinstance(n_per_task, dict) and task not in n_per_task:
            continue
        rows = [r for r in records if r["meta"]["task"] == task and r["meta"]["word"] not in exclude_words]
        if classes and task in classes:
            rows = [r for r in rows if str(question_class(task, r["meta"], r["output"])) in classes[task]]
        if n is None or n >= len(rows):
            out += rows
            continue
        strata = defaultdict(list)
        for r in rows:
            strata[question_class(task, r["meta"], r["output"])].append(r)
        quota = equal_quota({c: len(v) for c, v in sorted(strata.items(), key=lambda kv: str(kv[0]))}, n)
        out += [r for c, n in quota.items() for r in rng.sample(strata[c], n)]
    return out


def reworded(questions: list[dict], wordings: dict[str, list[str]], n_per_task: int) -> list[dict]:
    """n questions of each task of `wordings` (position, count), evenly spaced over the task's questions (so over
    their classes), in wordings never used in training, val or worked examples, in turn (template id
    "unseen.<task>.<i>"): same word, letter and answer."""
    out = []
    for task, texts in wordings.items():
        mine = [q for q in questions if q["meta"]["task"] == task]
        mine = mine[:: max(1, len(mine) // n_per_task)][:n_per_task]
        for i, q in enumerate(mine):
            meta = q["meta"]
            text = texts[i % len(texts)].format(**template_values(meta))
            out.append(
                {
                    **q,
                    "instruction": text,
                    "meta": {**meta, "template_id": f"{UNSEEN_PREFIX}{task}.{i % len(texts) + 1}"},
                }
            )
    return out


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
    limits = worked_reply_limits(tokenizer, questions, mode)  # worked: each reply stops at its length or answer line
    replies = [""] * (len(questions) * samples)
    # one task and draw's prompts share the system prompt and worked examples: a prefix cached once
    for task, d in dict.fromkeys((q["meta"]["task"], d) for q, d in zip(questions, draw_of)):
        index = [i * samples + j for i, q in enumerate(questions) if q["meta"]["task"] == task and draw_of[i] == d
                 for j in range(samples)]  # fmt: skip
        label = f"{desc} ({task}{f', draw {d + 1}' if len(draws) > 1 else ''})"
        texts = generate_replies(model, tokenizer, [prompts[i // samples] for i in index], generation, batch_size,
                                 seed, label, limits=limits and [limits[i // samples] for i in index],
                                 stop_line="Answer:" if limits else None)  # fmt: skip
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
