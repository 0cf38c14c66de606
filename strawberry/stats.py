"""Confidence intervals and paired tests for accuracies."""

import math


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion; (0, 1) when n == 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # clamped so that the interval always holds p (rounding can leave centre + half a hair below 1 at p = 1)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def mcnemar_exact(base_correct: list[bool], tuned_correct: list[bool]) -> float:
    """Two-sided exact McNemar p-value on paired outcomes (binomial test on the discordant pairs)."""
    if len(base_correct) != len(tuned_correct):
        raise ValueError("paired outcomes must have the same length")
    b = sum(x and not y for x, y in zip(base_correct, tuned_correct))
    c = sum(y and not x for x, y in zip(base_correct, tuned_correct))
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)
