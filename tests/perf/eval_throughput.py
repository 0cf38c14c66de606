"""Evaluation throughput: batched, left-padded generation against one question at a time (a script, not a test).

    .venv/bin/python -m tests.perf.eval_throughput [profile] [n_questions] [batch_size]

Same questions, same greedy decoding, in one run; prints questions/second for both, the ratio, and how many
predictions are identical.
"""

import sys
import time

from strawberry.asking import ask, pick_shots, sample_per_task
from strawberry.jsonl import read_jsonl
from strawberry.params import load_params
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "smollm2-135m"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 48
    batch_size = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    params = load_params()
    profile = load_profile({**params, "model": name})
    generation = {**profile.generation, "do_sample": False}  # greedy, so both ways must agree
    model, tokenizer = load_model(profile)
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    questions = sample_per_task(read_jsonl("data/splits/test.jsonl"), n // 3, 0)
    shots = pick_shots(read_jsonl("data/splits/val.jsonl"), 0, 0)

    timings, rows = {}, {}
    for label, size in (("one at a time", 1), (f"batched ({batch_size})", batch_size)):
        start = time.perf_counter()
        rows[label] = ask(model, tokenizer, questions, shots, kwargs, generation, size, 0, label)
        timings[label] = time.perf_counter() - start
        print(f"{label}: {len(questions)} questions in {timings[label]:.1f} s "
              f"({len(questions) / timings[label]:.2f} questions/s)")  # fmt: skip
    one, batched = rows.values()
    same = sum(a["reply"] == b["reply"] for a, b in zip(one, batched))
    same_answer = sum(a["lenient"] == b["lenient"] for a, b in zip(one, batched))
    print(f"profile {name}: speed-up batched / one-at-a-time: {timings['one at a time'] / timings[label]:.1f}x")
    print(f"identical replies: {same}/{len(questions)}; identical parsed answers: {same_answer}/{len(questions)}")


if __name__ == "__main__":
    main()
