"""The study's statistics on data whose answer is known: the cluster bootstrap against the normal interval of
per-word differences, the seed-level tests against worked examples, the minimum detectable effect by simulation,
and the p-value floor."""

import numpy as np
import pytest
from scipy import stats

from strawberry.study.statistics import p_text, seed_level


def test_welch_between_arms_matches_a_worked_example():
    # 1, 2, 3 against 4, 5, 6: difference -3, each sd 1, se sqrt(1/3 + 1/3) = 0.8165, t = -3.674 on 4 df
    got = seed_level([1, 2, 3], [4, 5, 6])
    assert got["diff"] == -3 and got["df"] == pytest.approx(4) and got["p"] == pytest.approx(0.02131, abs=1e-5)
    assert (got["low"], got["high"]) == pytest.approx((-3 - 2.7764 * 0.8165, -3 + 2.7764 * 0.8165), abs=1e-3)


def test_an_arm_against_base_is_a_one_sample_test():
    # base is one fixed value: 1, 2, 3 against 0 is t = 2 / (1 / sqrt 3) = 3.464 on 2 df
    got = seed_level([1, 2, 3], [0])
    assert got["diff"] == 2 and got["df"] == 2 and got["p"] == pytest.approx(0.07418, abs=1e-5)
    assert got["sd_right"] is None and got["n_right"] == 1


def test_one_run_decides_nothing():
    got = seed_level([0.4], [0.2])
    assert got["diff"] == pytest.approx(0.2) and np.isnan(got["p"]) and got["mde"] is None


def test_the_minimum_detectable_effect_is_found_most_of_the_time():
    """Simulated: an arm better by the stated minimum detectable effect is rejected in about 80% of studies with 3
    runs a side (the pooled-variance power; Welch's test, which does not assume equal spreads, finds it ~70%)."""
    rng = np.random.default_rng(0)
    for sd in (1.0, 0.05):
        mde = seed_level([0, sd, 2 * sd], [0, sd, 2 * sd])["mde"]
        assert mde == pytest.approx(3.0709 * sd, rel=1e-3)  # linear in the runs' spread
        runs = rng.normal(0, sd, (4000, 2, 3)) + np.array([mde, 0])[:, None]
        found = (stats.ttest_ind(runs[:, 0], runs[:, 1], axis=1, equal_var=False).pvalue < 0.05).mean()
        assert 0.65 < found < 0.8
    one = seed_level([0, 1, 2], [0])["mde"]
    runs = rng.normal(one, 1, (4000, 3))
    assert 0.77 < (stats.ttest_1samp(runs, 0, axis=1).pvalue < 0.05).mean() < 0.83


def test_a_bootstrap_that_never_crossed_zero_says_so():
    assert p_text({"p": 0.0002, "p_floor": 0.0002}) == "< 0.0004"
    assert p_text({"p": 0.0004, "p_floor": 0.0002}) == "0.0004"
    assert p_text({"p": 0.0188}) == "0.0188"


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
