"""The study's statistics: accuracy on a subset of the questions, a cluster bootstrap over words and seeds, the best
constant answer's level on the deciding measure, and the reading rule."""

import statistics

import numpy as np

from strawberry.study import label
from strawberry.tasks import HEADLINE_TASKS

BOOTSTRAP = 5000  # bootstrap resamples for intervals and p-values
# The measure that decides, per task (value: hard questions only), one that no constant answer passes: position ->
# the hard questions (the letter asked for is neither the word's first nor its last); count -> all count questions,
# balanced over the true count 0/1/2/3+, so every constant answer scores the same 1/4. Count's hard subset (true count
# 2+) is not constant-proof: always answering "2" scores 0.5 there, and tuned models do shift from "1" to "2".
DECIDING_HARD_ONLY = {"position": True, "count": False}
ALPHA = 0.05  # family-wise, per arm: Bonferroni over its task x setting cells


def subset(cols: dict[str, list], task: str, hard_only: bool) -> np.ndarray:
    return np.array([t == task and (h or not hard_only) for t, h in zip(cols["task"], cols["hard"])])


def cluster_bootstrap(left: list[dict], right: list[dict], task: str, hard_only: bool, field: str = "correct",
                      n: int = BOOTSTRAP, seed: int = 0) -> dict:  # fmt: skip
    """Accuracy of `left` runs minus `right` runs (each the mean over its runs) on the same questions, with a 95%
    interval and a two-sided p from a bootstrap that resamples words (each word's questions together: a word gives
    two questions per task) and, independently, each side's seeds (runs). `left`/`right` are outcome columns of one
    setting; a side with one run (base) contributes no seed variance."""
    mask = subset(left[0], task, hard_only)
    words = np.array(left[0]["word"])[mask]
    a = np.array([np.array(c[field])[mask] for c in left])
    b = np.array([np.array(c[field])[mask] for c in right])
    observed = float(a.mean() - b.mean())
    _, word_index = np.unique(words, return_inverse=True)
    rng = np.random.default_rng(seed)
    n_words = word_index.max() + 1
    draws = np.empty(n)
    for i in range(n):
        weights = np.bincount(rng.integers(0, n_words, n_words), minlength=n_words)[word_index]
        ra, rb = rng.integers(0, len(a), len(a)), rng.integers(0, len(b), len(b))
        draws[i] = (a[ra] @ weights).mean() / weights.sum() - (b[rb] @ weights).mean() / weights.sum()
    low, high = np.percentile(draws, [2.5, 97.5])
    p = min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean()))
    return {"diff": observed, "low": float(low), "high": float(high), "p": float(max(p, 1 / n)),
            "n_questions": int(mask.sum()), "n_words": int(n_words)}  # fmt: skip


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def accuracy_of(cols: dict, task: str, hard_only: bool, field: str = "correct") -> float:
    mask = subset(cols, task, hard_only)
    return float(np.array(cols[field])[mask].mean()) if mask.any() else float("nan")


def constant_level(exports: list[dict], task: str) -> float:
    """What the best constant answer scores on the task's deciding measure: 0 on hard position questions (by their
    definition); on count questions the most frequent true count's share (1/4 on the balanced test set), the highest
    over the runs' question sets."""
    if DECIDING_HARD_ONLY[task]:
        return 0.0
    return max(r["details"][task]["strategies"]["majority"] for r in exports)


def reading(arms: list[str], settings: list[str], compare, incomplete: bool) -> list[str]:
    """Which of the issue's three readings the exports support, by a stated rule on the deciding measure: an arm
    *improves* a (task, setting) cell when it beats both base and format_control there with bootstrap p below
    ALPHA / the number of cells (Bonferroni). (c) spelling or indexed improves some cell; else (a) positive_control
    does; else (b) neither: this setup cannot detect transfer."""
    cells = [(task, s) for task in HEADLINE_TASKS for s in settings]
    threshold = ALPHA / len(cells)
    head = ["## Reading", "",
            f"Rule: an arm *improves* a task and setting when, on the measure that "
            f"decides, it beats both base and format_control with bootstrap p < {ALPHA} / {len(cells)} cells = "
            f"{threshold:.4f} (Bonferroni per arm). (c) spelling or indexed spelling improves some cell; otherwise "
            "(a) if the positive control improves some cell, spelling does not transfer here; otherwise (b) nothing "
            "transfers in this setup, and the spelling null is not evidence.", ""]  # fmt: skip
    if "format_control" not in arms or "positive_control" not in arms:
        return head + ["**Not decidable**: the reading needs runs of both controls.", ""]

    def improved(arm: str) -> list[str]:
        found = []
        for task, s in cells:
            hard_only = DECIDING_HARD_ONLY[task]
            vs_base, vs_control = compare(arm, None, task, s, hard_only), compare(arm, "format_control", task, s,
                                                                                  hard_only)  # fmt: skip
            if all(c["diff"] > 0 and c["p"] < threshold for c in (vs_base, vs_control)):
                found.append(f"{task}, {label(s)}: {vs_base['diff']:+.3f} [{vs_base['low']:+.3f}, "
                             f"{vs_base['high']:+.3f}] over base, {vs_control['diff']:+.3f} [{vs_control['low']:+.3f}, "
                             f"{vs_control['high']:+.3f}] over format_control")  # fmt: skip
        return found

    found = {a: improved(a) for a in ("spelling", "indexed", "positive_control") if a in arms}
    hypothesis = {a: f for a, f in found.items() if a != "positive_control" and f}
    if hypothesis:
        verdict = ("**(c)** spelling training improves the measure that decides: " + "; ".join(
            f"{a} — {'; '.join(f)}" for a, f in hypothesis.items()))  # fmt: skip
    elif found.get("positive_control"):
        verdict = ("**(a)** the positive control improves it (" + "; ".join(found["positive_control"])
                   + ") and neither spelling arm does: spelling does not transfer here.")  # fmt: skip
    else:
        verdict = ("**(b)** no arm improves it, not even the positive control: this setup cannot detect transfer, "
                   "and the spelling null is not evidence.")  # fmt: skip
    prefix = "Provisional (arm runs are still to run): " if incomplete else ""
    return head + [prefix + verdict, ""]
