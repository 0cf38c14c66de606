"""Shared-prefix prefill against plain left-padded batches (a script, not a test).

    .venv/bin/python -m tests.perf.prefix_cache [profile] [n_questions] [shots]

The same k-shot questions of one task, the same greedy decoding and batch size, in one run: questions/second
both ways, the ratio, and how many replies are identical.
"""

import sys
import time

from strawberry.asking import pick_shots, sample_per_task
from strawberry.inference import generate_replies
from strawberry.jsonl import read_jsonl
from strawberry.params import load_params
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs, render_prompt


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "smollm2-135m"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    profile = load_profile({**load_params(), "model": name})
    model, tokenizer = load_model(profile)
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    questions = sample_per_task(read_jsonl("data/splits/test.jsonl"), {"count": n}, 0)
    shots = pick_shots(read_jsonl("data/splits/val.jsonl"), k, 0)["count"]
    prompts = [render_prompt(tokenizer, q, shots, kwargs) for q in questions]
    generation = {**profile.generation, "do_sample": False}
    timings, replies = {}, {}
    for label, share in (("plain batches", False), ("shared prefix", True)):
        start = time.perf_counter()
        replies[label] = generate_replies(model, tokenizer, prompts, generation, 32, 0, label, share_prefix=share)
        timings[label] = time.perf_counter() - start
        print(f"{label}: {n} {k}-shot count questions in {timings[label]:.1f} s ({n / timings[label]:.2f} q/s)")
    same = sum(a == b for a, b in zip(*replies.values()))
    print(
        f"profile {name}: speed-up shared prefix / plain: {timings['plain batches'] / timings['shared prefix']:.2f}x; "
        f"identical replies {same}/{n}"
    )


if __name__ == "__main__":
    main()
