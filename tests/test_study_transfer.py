"""Study v3's arms and reading on outcome columns whose answer is known: Holm's correction against adjusted
p-values computed another way, the reading's three outcomes, the covered-share contrast, and the page."""

import numpy as np

from strawberry.study.calibration import BASE_SETTING, TUNED_SETTING, render_calibration
from strawberry.study.runs import covered_shares
from strawberry.study.transfer import V3_ARMS, by_arm, comparisons, covered_contrast, holm, verdict
from tests.test_study_calibration import columns, export

LEVELS = {"position": 0.15, "count": 0.25}


def holm_adjusted(pvalues: list[float]) -> list[float]:
    """Holm's adjusted p-values: p_adj(i) = max over j <= i of min(1, (m - j + 1) p(j)), in sorted order."""
    order = np.argsort(pvalues)
    m = len(pvalues)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return list(adjusted)


def test_holm_rejects_in_order_and_agrees_with_adjusted_p_values():
    # sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop; 0.04 is not rejected though below 0.05
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005}) == {"d": True, "a": True, "c": False, "b": False}
    rng = np.random.default_rng(3)
    for _ in range(200):
        p = list(rng.uniform(0, 0.08, 4))
        decided = holm(dict(enumerate(p)))
        assert [decided[i] for i in range(4)] == [a <= 0.05 for a in holm_adjusted(p)]


def arm_export(arm: str, seed: int, position: float, count: float, base: dict, shares=None) -> dict:
    run = export(f"grid-v3arms-arm{arm}-seed{seed}", 1e-3, seed, columns(position, count, seed * 10 + len(arm)), base)
    return run | {"arm": arm, "shortcut_levels": LEVELS, "covered_share": shares or {}}


def study(b: tuple[float, float], c: tuple[float, float], d: tuple[float, float], seeds=(1, 2, 3)) -> list[dict]:
    base = columns(0.2, 0.25)
    return [arm_export(V3_ARMS[k], s, *acc, base) for s in seeds for k, acc in
            (("A", (0.4, 0.45)), ("B", b), ("C", c), ("D", d))]  # fmt: skip


def test_the_reading_follows_the_rule():
    runs = by_arm(study(b=(0.6, 0.65), c=(0.4, 0.45), d=(0.2, 0.25)))
    found = comparisons(runs)
    assert set(found) == {("B", "C", "position"), ("B", "C", "count"), ("D", "base", "position"),
                          ("D", "base", "count")}  # fmt: skip
    assert found[("B", "C", "position")]["diff"] > 0.15 and abs(found[("D", "base", "count")]["diff"]) < 0.05
    assert verdict(found, LEVELS, gate_passed=True, complete=True).startswith("**(c) transfer**: B − C")
    assert verdict(found, LEVELS, gate_passed=False, complete=True).startswith("**(b)**")
    assert verdict(found, LEVELS, gate_passed=True, complete=False).startswith("**Not read yet**")
    # a measure whose shortcut scores above the ceiling cannot show transfer
    assert verdict(found, {"position": 0.5, "count": 0.5}, True, True).startswith("**(a)")
    same = comparisons(by_arm(study(b=(0.4, 0.45), c=(0.4, 0.45), d=(0.2, 0.25))))
    assert verdict(same, LEVELS, True, True).startswith("**(a) no transfer here**")
    worse = comparisons(by_arm(study(b=(0.2, 0.25), c=(0.45, 0.5), d=(0.2, 0.25))))
    assert verdict(worse, LEVELS, True, True).startswith("**(a)")  # rejected, but B is worse: not transfer


def test_arms_must_ask_the_same_questions():
    runs = study(b=(0.4, 0.4), c=(0.4, 0.4), d=(0.4, 0.4), seeds=(1,))
    runs[1]["base"] = {BASE_SETTING: columns(0.2, 0.25, n_words=300)}
    try:
        by_arm(runs)
    except ValueError as e:
        assert "asked other test questions" in str(e) and runs[1]["name"] in str(e)
    else:
        raise AssertionError("a run with other questions was accepted")


def test_covered_share_contrast():
    rows = [{"set": "test", "meta": {"word": "alpha", "token_split": ["al", "pha"]}},
            {"set": "test", "meta": {"word": "beta", "token_split": ["b", "eta"]}},
            {"set": "test", "meta": {"word": "xi", "token_split": ["x", "i"]}}]  # fmt: skip
    assert covered_shares(rows, {"al", "eta"}) == {"alpha": 0.5, "beta": 1.0, "xi": None}
    cols = columns(0.5, 0.5)
    right = {w for w, t, ok in zip(cols["word"], cols["task"], cols["correct"]) if t == "position" and ok}
    shares = {w: 1.0 if w in right else 0.0 for w in cols["word"]}
    by_bin = covered_contrast(cols, shares, "position")
    assert by_bin["all"] == (1.0, len(right)) and by_bin["none"] == (0.0, 400 - len(right))
    assert by_bin["part"][1] == 0


def test_the_page_has_the_arms_their_reading_and_figures(tmp_path):
    base = columns(0.2, 0.25)
    gate = [export(f"grid-v3cal-s{s}", 1e-3, s, columns(0.5, 0.6, s), base) | {
        "shortcut_levels": LEVELS} for s in (1, 2, 3)]  # fmt: skip
    arms = study(b=(0.6, 0.65), c=(0.4, 0.45), d=(0.2, 0.25))
    words = arms[0]["tuned"][TUNED_SETTING]["word"]
    for run in arms:
        run["covered_share"] = {w: float(i % 2) for i, w in enumerate(dict.fromkeys(words))}
    page = render_calibration(gate, tmp_path / "study" / "v3-gate.png", arms)
    assert "The gate is passed" in page and "## Step 2: the arms" in page
    assert "**(c) transfer**" in page and "| B − C | hard position |" in page
    assert "| B | count |" in page  # the covered-share table
    assert (tmp_path / "study" / "v3-arms.png").is_file() and (tmp_path / "study" / "v3-gate.png").is_file()
