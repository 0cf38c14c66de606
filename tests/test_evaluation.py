"""Scoring: stratified samples, constant-strategy baselines, hard questions, and sampled decoding."""

import random
from collections import Counter

import pytest
import yaml

from strawberry.asking import ask, pick_shots, sample_per_task
from strawberry.evaluation import decodings
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs
from strawberry.scoring import accuracy, wilson_interval
from strawberry.tasks import is_hard, strategies
from strawberry.tasks.count import count_class
from tests.conftest import ROOT

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def question(task: str, word: str, output: str, **meta) -> dict:
    return {"instruction": f"q about '{word}' {task} {output} {meta}", "input": "", "output": output,
            "meta": {"task": task, "word": word, **meta}}  # fmt: skip


def count_pool(n_each: dict[str, int]) -> list[dict]:
    return [question("count", f"w{c}{i}", {"3+": "3"}.get(c, c)) for c, n in n_each.items() for i in range(n)]


def test_count_sample_is_balanced_over_the_true_count():
    pool = count_pool({"0": 50, "1": 300, "2": 40, "3+": 30})  # skewed, like the old data (59% "1")
    sample = sample_per_task(pool, {"count": 100}, seed=0)
    assert Counter(count_class(q["output"]) for q in sample) == {"0": 25, "1": 25, "2": 25, "3+": 25}
    small = sample_per_task(count_pool({"0": 5, "1": 300, "2": 40, "3+": 30}), {"count": 100}, seed=0)
    assert Counter(count_class(q["output"]) for q in small) == {"0": 5, "1": 33, "2": 32, "3+": 30}
    assert strategies("count", sample) == {"always_1": 0.25, "always_0": 0.25, "majority": 0.25}


def test_position_sample_and_strategies():
    pool = [
        question("position", "added", letter, position=pos, position_category=cat)
        for pos, letter, cat in [(1, "a", "first"), (3, "d", "middle"), (5, "d", "last")]
        for _ in range(10)
    ]
    sample = sample_per_task(pool, {"position": 9}, seed=1)
    assert Counter(q["meta"]["position_category"] for q in sample) == {"first": 3, "middle": 3, "last": 3}
    s = strategies("position", sample)
    # the middle 'd' of 'added' is also its last letter: "always the last letter" gets it right too
    assert s["first_letter"] == pytest.approx(1 / 3) and s["last_letter"] == pytest.approx(2 / 3)
    assert s["random_letter"] == pytest.approx((1 / 5 + 3 / 5 + 3 / 5) / 3)


def test_hard_position_questions_are_those_no_constant_position_gets():
    """Hard position questions are exactly those that always-the-first-letter and always-the-last-letter both miss,
    checked question by question over every position of words with repeated letters."""
    for word in ("added", "strawberry", "banana", "level", "xylophonist"):
        for position in range(1, len(word) + 1):
            q = question("position", word, word[position - 1], position=position)
            scores = strategies("position", [q])
            constant_gets_it = scores["first_letter"] == 1 or scores["last_letter"] == 1
            assert is_hard("position", q["meta"], q["output"]) is (not constant_gets_it), (word, position)
    assert is_hard("length", {}, "5") is None  # no hard subset


def test_hard_count_questions_are_those_always_0_and_always_1_miss():
    """Count's hard subset (true count 2+) is what always 0 and always 1 miss; always "2" still scores on it, so it is
    not constant-proof (the study decides on all count questions instead)."""
    pool = count_pool({"0": 5, "1": 5, "2": 5, "3+": 5}) + [question("count", "w5", "5")]
    hard = [q for q in pool if is_hard("count", q["meta"], q["output"])]
    easy = [q for q in pool if not is_hard("count", q["meta"], q["output"])]
    assert len(hard) == 11 and strategies("count", hard)["always_0"] == strategies("count", hard)["always_1"] == 0
    assert all(q["output"] in ("0", "1") for q in easy)
    assert sum(q["output"] == "2" for q in hard) / len(hard) == 5 / 11  # always "2"


def rows(outcomes: list[list[bool]]) -> list[dict]:
    return [{"question": f"q{i}", "sample": j, "correct": c, "correct_strict": c, "lenient": "x"}
            for i, per_q in enumerate(outcomes) for j, c in enumerate(per_q)]  # fmt: skip


def test_accuracy_under_sampling_counts_questions_not_replies():
    one = accuracy(rows([[True]] * 30 + [[False]] * 70))
    assert one["n"] == 100 and (one["ci_low"], one["ci_high"]) == wilson_interval(30, 100)
    # five identical replies per question: the same 100 questions, so the interval must not shrink
    five = accuracy(rows([[True] * 5] * 30 + [[False] * 5] * 70))
    assert five["n"] == 100 and five["accuracy"] == pytest.approx(0.3)
    assert five["ci_high"] - five["ci_low"] == pytest.approx(one["ci_high"] - one["ci_low"], abs=0.02)
    mixed = accuracy(rows([[True, False, True, False, False]] * 100))  # every question right 2 times in 5
    assert mixed["accuracy"] == pytest.approx(0.4) and mixed["ci_high"] - mixed["ci_low"] < 0.01


def test_sampling_profile_is_scored_over_k_replies_with_greedy_beside():
    qwen = load_profile({**PARAMS, "model": "qwen3-4b"})
    assert list(decodings(qwen, 5)) == ["sampled", "greedy"]
    generation, k = decodings(qwen, 5)["sampled"]
    assert k == 5 and (generation["temperature"], generation["top_p"], generation["top_k"]) == (0.6, 0.95, 20)
    assert decodings(qwen, 5)["greedy"] == ({"do_sample": False, "max_new_tokens": 16}, 1)
    assert list(decodings(load_profile(PARAMS), 5)) == ["greedy"]  # local profiles stay greedy


def test_ask_with_samples_on_a_real_model():
    profile = load_profile({**PARAMS, "model": "tiny-qwen3"})
    model, tokenizer = load_model(profile)
    questions = [question("count", w, "1", letter="a") for w in ("cat", "dog", "emu")]
    shots = pick_shots([question(t, "zzz", "z") for t in ("position", "count", "length")], 0, 0)
    generation = {"do_sample": True, "temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0, "max_new_tokens": 3}
    replies = ask(model, tokenizer, questions, shots, chat_template_kwargs(tokenizer), generation, 8, 0, "t", samples=4)
    assert [r["sample"] for r in replies] == [0, 1, 2, 3] * 3
    assert [r["question"] for r in replies[::4]] == [q["instruction"] for q in questions]
    assert len({r["reply"] for r in replies}) > 1  # sampled, not repeated
    assert accuracy(replies)["n"] == 3


def test_stratified_sample_is_deterministic():
    pool = count_pool({"0": 50, "1": 50, "2": 50, "3+": 50})
    assert sample_per_task(pool, 40, seed=3) == sample_per_task(pool, 40, seed=3)
    assert sample_per_task(pool, 40, seed=3) != sample_per_task(pool, 40, seed=4)
    assert len(sample_per_task(random.Random(0).sample(pool, 200), None, seed=0)) == 200
