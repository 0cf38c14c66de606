"""The study page's reading rule (a/b/c) and its constant-proof measure, on fixed bootstrap results."""

import pytest

from strawberry.study.statistics import constant_level, reading

ARMS = ["spelling", "indexed", "positive_control", "format_control"]
SETTINGS = ["0shot", "spell_first_3shot"]
NULL = {"diff": 0.01, "low": -0.03, "high": 0.05, "p": 0.6}
CLEAR = {"diff": 0.2, "low": 0.12, "high": 0.28, "p": 0.0002}


def comparing(wins: dict[tuple[str, str, str], dict]):
    """A compare(a, b, task, setting, hard_only) whose clear wins are the given (arm, task, setting) cells, against
    base and format_control alike; it also checks that the rule asks for the deciding subset of each task."""

    def compare(a, b, task, s, hard_only):
        assert hard_only == (task == "position") and b in (None, "format_control")
        return wins.get((a, task, s), NULL)

    return compare


def verdict(wins, arms=ARMS, incomplete=False) -> str:
    return reading(arms, SETTINGS, comparing(wins), incomplete)[-2]


def test_reading_rule():
    assert verdict({}).startswith("**(b)**")
    assert verdict({("positive_control", "count", "0shot"): CLEAR}).startswith("**(a)** the positive control")
    text = verdict({("positive_control", "count", "0shot"): CLEAR, ("indexed", "position", "spell_first_3shot"): CLEAR})
    assert text.startswith("**(c)**") and "indexed — position, spell-first, 3-shot: +0.200 [+0.120, +0.280]" in text
    # p must clear 0.05 / 4 cells, not 0.05: one of four cells at p = 0.03 is not an improvement.
    assert verdict({("spelling", "count", "0shot"): CLEAR | {"p": 0.03}}).startswith("**(b)**")
    assert "0.05 / 4 cells = 0.0125" in reading(ARMS, SETTINGS, comparing({}), False)[2]
    assert verdict({}, incomplete=True).startswith("Provisional (arm runs are still to run): **(b)**")
    assert verdict({}, arms=ARMS[:3]) == "**Not decidable**: the reading needs runs of both controls."


def test_constant_level_is_the_best_constant_answer():
    def export(name: str, majority: float) -> dict:
        return {"name": name, "details": {"count": {"strategies": {"always_0": 0.1, "majority": majority}}}}

    assert constant_level([export("study-x-spelling-s1", 0.25)], "count") == 0.25
    # an unbalanced question set (a tiny profile): the most frequent count's share, the highest over the runs
    assert constant_level([export("study-x-spelling-s1", 0.25), export("study-x-indexed-s1", 1 / 3)], "count") == 1 / 3
    assert constant_level([export("study-x-spelling-s1", 0.25)], "position") == 0.0  # hard position: by definition


def columns(pairs_per_word: list[list[tuple[float, float]]]) -> tuple[dict, dict]:
    """Outcome columns of one run per side: each word's questions as (left correct, right correct) pairs."""
    left = {"task": [], "word": [], "hard": [], "correct": []}
    right = {"task": [], "word": [], "hard": [], "correct": []}
    for w, pairs in enumerate(pairs_per_word):
        for a, b in pairs:
            for side, value in ((left, a), (right, b)):
                side["task"].append("count")
                side["word"].append(f"w{w}")
                side["hard"].append(True)
                side["correct"].append(value)
    return left, right


def test_cluster_bootstrap_against_the_normal_interval_of_word_means():
    """One run a side, so only words are resampled: the interval matches the normal interval computed another way,
    from the per-word mean differences (mean ± 1.96 sd/√words), and a word's two questions move together (its
    interval is as wide as for one question per word with the same per-word differences, not narrower)."""
    import math
    import random
    import statistics

    from strawberry.study.statistics import cluster_bootstrap

    rng = random.Random(0)
    words = [[(float(rng.random() < 0.6), float(rng.random() < 0.4))] * 2 for _ in range(400)]  # 2 equal questions
    left, right = columns(words)
    got = cluster_bootstrap([left], [right], "count", hard_only=False, n=4000)
    diffs = [pairs[0][0] - pairs[0][1] for pairs in words]
    mean, half = statistics.mean(diffs), 1.96 * statistics.stdev(diffs) / math.sqrt(len(diffs))
    assert got["diff"] == pytest.approx(mean) and got["n_words"] == 400 and got["n_questions"] == 800
    assert got["low"] == pytest.approx(mean - half, abs=0.012) and got["high"] == pytest.approx(mean + half, abs=0.012)
    assert got["p"] < 0.001  # the difference is about 8 standard errors


def test_cluster_bootstrap_with_no_difference_and_identical_sides():
    from strawberry.study.statistics import cluster_bootstrap

    left, right = columns([[(1.0, 1.0), (0.0, 0.0)] for _ in range(50)])
    got = cluster_bootstrap([left], [right], "count", hard_only=False, n=500)
    assert (got["diff"], got["low"], got["high"], got["p"]) == (0.0, 0.0, 0.0, 1.0)
