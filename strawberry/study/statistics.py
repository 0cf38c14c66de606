"""The study's statistics: accuracy on a subset of the questions, the pre-registered cluster bootstrap over words and
seeds, Holm's correction, and the seed-level test that treats each run (seed) as the unit of replication.

The bootstrap describes precision *within* runs (which questions happened to be asked); with 3 runs a side it cannot
estimate the spread *between* runs, so its p-values read 3 seeds as if they were many. The seed-level test takes each
run's accuracy on the measure as one observation: Welch's t-test between two arms, a one-sample t-test of an arm's
runs against base (whose answers do not vary with the seed). scipy and statsmodels do the arithmetic."""

import statistics

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower, TTestPower

BOOTSTRAP = 5000  # bootstrap resamples for intervals and p-values
POWER = 0.8  # the minimum detectable effect is the difference a test finds with this probability


def subset(cols: dict[str, list], task: str, hard_only: bool) -> np.ndarray:
    return np.array([t == task and (h or not hard_only) for t, h in zip(cols["task"], cols["hard"])])


def cluster_bootstrap(left: list[dict], right: list[dict], task: str, hard_only: bool, field: str = "correct",
                      n: int = BOOTSTRAP, seed: int = 0) -> dict:  # fmt: skip
    """Accuracy of `left` runs minus `right` runs (each the mean over its runs) on the same questions, with a 95%
    interval and a two-sided p from a bootstrap that resamples words (each word's questions together: a word gives
    two questions per task) and, independently, each side's seeds (runs). `left`/`right` are outcome columns of one
    setting; a side with one run (base) contributes no seed variance. `p_floor`: no resample crossed 0 when p equals
    it (then p < 2/n is what is known)."""
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
            "p_floor": 1 / n, "n_questions": int(mask.sum()), "n_words": int(n_words)}  # fmt: skip


def p_text(test: dict) -> str:
    """A p-value as the page prints it; a bootstrap in which no resample crossed 0 says so (p < 2/resamples)."""
    if test["p"] <= test.get("p_floor", 0):
        return f"< {2 * test['p_floor']:.4f}"
    return f"{test['p']:.4f}"


def holm(pvalues: dict, alpha: float) -> dict:
    """Holm's step-down over a family of tests (statsmodels' multipletests): key -> rejected."""
    if not pvalues:
        return {}
    keys = list(pvalues)
    rejected = multipletests([pvalues[k] for k in keys], alpha=alpha, method="holm")[0]
    return {k: bool(r) for k, r in zip(keys, rejected)}


def seed_level(left: list[float], right: list[float], alpha: float = 0.05) -> dict:
    """Left minus right with runs as the unit: each value is one run's accuracy. Two arms: Welch's t-test (unequal
    variances; df by Welch–Satterthwaite). Right with one value (base, whose answers no seed changes): a one-sample
    t-test of left's runs against it. A 95% t interval, the two-sided p, the runs' standard deviations, and the
    minimum detectable effect at `alpha` and POWER given the observed spread (None: fewer than 2 runs, or no
    spread)."""
    a, b = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    diff = float(a.mean() - b.mean())
    out = {"diff": diff, "n_left": len(a), "n_right": len(b), "sd_left": _sd(a), "sd_right": _sd(b),
           "low": float("nan"), "high": float("nan"), "p": float("nan"), "df": float("nan"), "mde": None}  # fmt: skip
    if len(a) < 2 or (len(b) > 1 and len(b) < 2):
        return out
    if len(b) == 1:
        se, df = a.std(ddof=1) / np.sqrt(len(a)), len(a) - 1
        sd_effect = a.std(ddof=1)
        power_d = TTestPower().solve_power(nobs=len(a), alpha=alpha, power=POWER) if sd_effect > 0 else None
    else:
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else len(a) + len(b) - 2
        sd_effect = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        power_d = (TTestIndPower().solve_power(nobs1=len(a), ratio=len(b) / len(a), alpha=alpha, power=POWER)
                   if sd_effect > 0 else None)  # fmt: skip
    if se == 0:
        return out | {"low": diff, "high": diff, "p": 1.0 if diff == 0 else 0.0, "df": float(df)}
    half = stats.t.ppf(0.975, df) * se
    p = 2 * stats.t.sf(abs(diff) / se, df)
    return out | {"low": float(diff - half), "high": float(diff + half), "p": float(p), "df": float(df),
                  "mde": None if power_d is None else float(power_d * sd_effect)}  # fmt: skip


def _sd(values: np.ndarray) -> float | None:
    return float(values.std(ddof=1)) if len(values) > 1 else None


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def accuracy_of(cols: dict, task: str, hard_only: bool, field: str = "correct") -> float:
    mask = subset(cols, task, hard_only)
    return float(np.array(cols[field])[mask].mean()) if mask.any() else float("nan")
