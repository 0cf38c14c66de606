"""Scoring replies: accuracy with 95% intervals (Wilson; a normal interval on per-question means under sampling),
the paired tuned-minus-base test (exact McNemar), and accuracy broken down by a property of the question."""

import math
from collections import defaultdict

from strawberry.tasks.count import count_class


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
