"""Worked-reply speed: the worked answer mode as evaluate asks it (each reply stops at its own limit or its marked
"Answer:" line, batches grouped by that limit) against the same worked prompts with one limit for all (the former
way) and against the direct mode, in one run (a script, not a test).

    .venv/bin/python -m tests.perf.worked_speed [profile] [n_questions] [batch_size] [shots]

Same test questions (half position, half count), greedy decoding, the profile's precision. Prints seconds,
questions/s and tokens/s (reply tokens as generated, padding excluded) per row, the ratios, and the minutes that
800 worked questions (one model's study evaluation: 400 hard position, 400 count) would take.
"""

import sys
import time

from strawberry.answer_modes import in_mode, load_mode_templates, mode_generation, read_reply
from strawberry.asking import ask, shot_draws
from strawberry.inference import generate_replies
from strawberry.jsonl import read_jsonl
from strawberry.params import load_params
from strawberry.precision import autocast
from strawberry.profiles import load_model, load_profile, run_precision
from strawberry.prompts import chat_template_kwargs, render_prompt


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "qwen25-coder-05b"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    batch_size = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    params = load_params()
    profile = load_profile({**params, "model": name})
    generation = {**profile.generation, "do_sample": False}
    model, tokenizer = load_model(profile)
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    test, val = read_jsonl("data/splits/test.jsonl"), read_jsonl("data/splits/val.jsonl")
    questions = [r for r in test if r["meta"]["task"] == "position"][: n // 2]
    questions += [r for r in test if r["meta"]["task"] == "count"][: n - n // 2]
    by_mode = load_mode_templates("data/templates")
    draws = shot_draws(val, k, 0, 1)

    def timed(label: str, run) -> tuple[float, int]:
        with autocast(run_precision(profile)):
            start = time.perf_counter()
            replies, answered = run()
            seconds = time.perf_counter() - start
        tokens = sum(len(ids) for ids in tokenizer(replies, add_special_tokens=False)["input_ids"])
        print(f"{label}: {len(replies)} questions in {seconds:.1f} s ({len(replies) / seconds:.2f} questions/s), "
              f"{tokens} reply tokens ({tokens / seconds:.1f} tokens/s), answer found in {answered}/{len(replies)}",
              flush=True)  # fmt: skip
        return seconds, tokens

    def asked_in(mode: str):
        asked, mode_draws = in_mode(questions, draws, mode, by_mode)
        return asked, mode_draws[0], mode_generation(tokenizer, asked, generation, mode)

    def by_ask(mode: str):
        asked, shots, limit = asked_in(mode)
        rows = ask(model, tokenizer, asked, shots, kwargs, limit, batch_size, 0, f"{mode} {k}-shot", mode=mode)
        return [r["reply"] for r in rows], sum(r["lenient"] is not None for r in rows)

    def one_limit():  # the former way: every worked reply decoded up to the longest question's limit
        asked, shots, limit = asked_in("worked")
        replies = []
        for task in ("position", "count"):
            mine = [q for q in asked if q["meta"]["task"] == task]
            prompts = [render_prompt(tokenizer, q, shots[task], kwargs) for q in mine]
            replies += generate_replies(model, tokenizer, prompts, limit, batch_size, 0, f"one limit ({task})")
        tasks = [q["meta"]["task"] for q in asked]
        return replies, sum(read_reply(t, r, "worked").lenient is not None for t, r in zip(tasks, replies))

    d_s, d_t = timed(f"direct {k}-shot", lambda: by_ask("direct"))
    o_s, o_t = timed(f"worked {k}-shot, one limit", one_limit)
    w_s, w_t = timed(f"worked {k}-shot, own limits", lambda: by_ask("worked"))
    print(f"profile {name}, batch {batch_size}: worked own limits / one limit: {o_s / w_s:.2f}x faster; "
          f"worked / direct: {w_s / d_s:.1f}x the time, {(w_t / w_s) / (d_t / d_s):.1f}x the tokens/s; "
          f"800 worked questions: {800 * w_s / len(questions) / 60:.1f} min (one limit: "
          f"{800 * o_s / len(questions) / 60:.1f} min)")  # fmt: skip


if __name__ == "__main__":
    main()
