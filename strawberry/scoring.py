"""Scoring replies: accuracy with 95% intervals (Wilson; a normal interval on per-question means under sampling),
the paired tuned-minus-base test (exact McNemar; both by statsmodels), and accuracy broken down by a property of the
question."""

import math
from collections import defaultdict

from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from strawberry.tasks import position
from strawberry.tasks.count import count_class


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion (statsmodels); (0, 1) when n == 0."""
    if n == 0:
        return 0.0, 1.0
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    p = successes / n
    # clamped so that the interval always holds p (rounding can leave the upper end a hair below 1 at p = 1)
    return max(0.0, min(p, float(low))), min(1.0, max(p, float(high)))


def mcnemar_exact(base_correct: list[bool], tuned_correct: list[bool]) -> float:
    """Two-sided exact McNemar p-value on paired outcomes (statsmodels: a binomial test on the discordant pairs)."""
    if len(base_correct) != len(tuned_correct):
        raise ValueError("paired outcomes must have the same length")
    b = sum(x and not y for x, y in zip(base_correct, tuned_correct))
    c = sum(y and not x for x, y in zip(base_correct, tuned_correct))
    if b + c == 0:
        return 1.0
    return float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)


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


BREAKDOWNS = {
    "word_length": lambda m: m["length"],
    "position": lambda m: m["position_category"],
    "true_count": lambda m: None,  # filled from the expected answer (count questions)
    "repeated_letters": lambda m: "yes" if len(set(m["word"])) < len(m["word"]) else "no",
    "tokens_per_word": lambda m: m["n_tokens"],
    "asked_token_length": lambda m: position.asked_piece_length(m) if m["task"] == "position" else None,
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
