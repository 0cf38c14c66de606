"""Study v3's arms and reading on outcome columns whose answer is known: Holm's correction against adjusted
p-values computed another way, the reading's three outcomes, the covered-share contrast, and the page."""

from pathlib import Path

import numpy as np
import pytest

from strawberry.cells import grid_cells, grid_spec
from strawberry.params import load_params
from strawberry.study.diagnostics import covered_contrast, shortcut_answers
from strawberry.study.gate import BASE_SETTING, TUNED_SETTING, check_arms_recipe
from strawberry.study.page import base_lines, render_page, rerun_lines
from strawberry.study.reading import FAMILY_ALPHA, V3_ARMS, answered_rates, by_arm, comparisons, verdict
from strawberry.study.resolved import flatten, resolved_settings, with_overrides
from strawberry.study.runs import covered_shares, exports_of, outcomes
from strawberry.study.statistics import accuracy_of, holm
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
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005}, 0.05) == {"d": True, "a": True, "c": False, "b": False}
    rng = np.random.default_rng(3)
    for _ in range(40):  # statsmodels takes ~30 ms a call
        p = list(rng.uniform(0, 0.08, 4))
        decided = holm(dict(enumerate(p)), FAMILY_ALPHA)
        assert [decided[i] for i in range(4)] == [a <= 0.05 for a in holm_adjusted(p)]


def flipped(cols: dict, n: int) -> dict:
    """The same outcome columns with the first n questions' correctness turned the other way round."""
    return cols | {"correct": [1.0 - c if i < n else c for i, c in enumerate(cols["correct"])]}


def arm_export(arm: str, seed: int, position: float, count: float, base: dict, shares=None, formatted=True) -> dict:
    tuned = columns(position, count, seed * 10 + len(arm), formatted=formatted)
    run = export(f"grid-v3arms-arm{arm}-seed{seed}", 1e-3, seed, tuned, base)
    return run | {"arm": arm, "shortcut_levels": LEVELS, "covered_share": shares or {}}


def study(b: tuple[float, float], c: tuple[float, float], d: tuple[float, float], seeds=(1, 2, 3)) -> list[dict]:
    base = columns(0.2, 0.25)
    return [arm_export(V3_ARMS[k], s, *acc, base) for s in seeds for k, acc in
            (("A", (0.4, 0.45)), ("B", b), ("C", c), ("D", d))]  # fmt: skip


def read(exports: list[dict], levels=LEVELS, gate_passed=True, complete=True) -> str:
    runs = by_arm(exports)
    return verdict(comparisons(runs), levels, gate_passed, complete, answered_rates(runs))


def test_the_reading_follows_the_rule():
    transfer = study(b=(0.6, 0.65), c=(0.4, 0.45), d=(0.2, 0.25))
    found = comparisons(by_arm(transfer))
    assert set(found) == {("B", "C", "position"), ("B", "C", "count"), ("D", "base", "position"),
                          ("D", "base", "count")}  # fmt: skip
    assert found[("B", "C", "position")]["diff"] > 0.15 and abs(found[("D", "base", "count")]["diff"]) < 0.05
    assert read(transfer).startswith("**(c) transfer**: B − C")
    assert read(transfer, gate_passed=False).startswith("**(b)**")
    assert read(transfer, complete=False).startswith("**Not read yet**")
    # a measure whose shortcut scores above the ceiling cannot show transfer
    assert read(transfer, levels={"position": 0.5, "count": 0.5}).startswith("**(a)")
    assert read(study(b=(0.4, 0.45), c=(0.4, 0.45), d=(0.2, 0.25))).startswith("**(a) no transfer here**")
    # rejected, but B is worse: not transfer
    assert read(study(b=(0.2, 0.25), c=(0.45, 0.5), d=(0.2, 0.25))).startswith("**(a)")


def test_a_null_between_arms_that_lost_the_format_is_not_read():
    base = columns(0.2, 0.25, formatted=True)
    # B and C equal, but C answers only where it is right (45%): B − C cannot tell; D kept the format and is read
    lost_c = [arm_export(V3_ARMS[k], s, *acc, base, formatted=k != "C") for s in (1, 2, 3)
              for k, acc in (("A", (0.4, 0.45)), ("B", (0.4, 0.45)), ("C", (0.4, 0.45)), ("D", (0.2, 0.25)))]
    reading = read(lost_c)
    assert reading.startswith("**(a) no transfer here**: the gate passed, and D − base is not rejected")
    assert "B − C cannot tell: C answered 0.425 against A's 1.000 (more than 0.10 below)" in reading
    # D is held against base (every reply answers here), B and C against A (kept)
    every = [e if e["arm"] == "worked_control" else arm_export(e["arm"], e["seed"], 0.2, 0.25, base, formatted=False)
             for e in lost_c]  # fmt: skip
    assert read(every).startswith("**(b)** this setup cannot tell: the arms lost the answer format")
    # a positive difference against an arm that lost the format cannot tell either (twelfth session's change); the
    # reading as first written, which read it as transfer, is shown beside it
    against_lost = [e if e["arm"] != "worked_spelling" else arm_export("worked_spelling", e["seed"], 0.7, 0.75, base)
                    for e in lost_c]  # fmt: skip
    reading = read(against_lost)
    assert reading.startswith("**(a) no transfer here**: the gate passed, and D − base is not rejected")
    assert "B − C cannot tell: C answered 0.425" in reading
    assert "As the rule was first written (the format condition guarding nulls only), the reading would be: " \
           "**(c) transfer**: B − C on hard position +0." in reading
    # a shown transfer between arms that kept the format stands whatever the format of the other arms
    shown = [e if e["arm"] != "spelling_replay" else arm_export("spelling_replay", e["seed"], 0.6, 0.65, base)
             for e in lost_c]  # fmt: skip
    reading = read(shown)
    assert reading.startswith("**(c) transfer**: D − base on hard position +0.400") and "first written" not in reading
    assert "B − C" not in reading


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


def reply_row(task: str, word: str, expected: str, answer: str | None) -> dict:
    """One greedy worked reply as evaluate writes it to eval/predictions.jsonl (the fields outcomes reads)."""
    return {"set": "test", "setting": TUNED_SETTING, "mode": "worked", "sample": 0, "expected": expected,
            "reply": f"1: {word[0]}\nAnswer: {answer}", "lenient": answer, "correct": answer == expected,
            "correct_strict": answer == expected, "meta": {"task": task, "word": word, "letter": expected}}  # fmt: skip


def test_shortcut_answers_count_first_letters_and_a_favourite_count():
    # 'pulicous' asked for its 3rd letter ('l'): D-style "p" is the first letter; 'banana' is never its 'b'
    rows = [reply_row("position", "pulicous", "l", "p"), reply_row("position", "banana", "n", "n"),
            reply_row("position", "strawberry", "w", None), reply_row("position", "kiwi", "w", "k"),
            reply_row("count", "strawberry", "3", "1"), reply_row("count", "kiwi", "2", "1"),
            reply_row("count", "banana", "0", "2"), reply_row("count", "fig", "1", None)]  # fmt: skip
    cols = outcomes(rows)[TUNED_SETTING]
    assert cols["answer"] == ["p", "n", None, "k", "1", "1", "2", None]  # kept in asked order, None when none given
    assert cols["reply"][0] == "1: p\nAnswer: p" and len(cols["reply"]) == 8  # each reply's text, to rescore later
    found = shortcut_answers(cols)
    assert found["first_letter"] == 2 / 3  # of the 3 answered hard position questions
    assert (found["count_top"], found["count_top_share"]) == ("1", 2 / 3)
    assert shortcut_answers({k: v for k, v in cols.items() if k != "answer"}) is None  # an export that kept none


def test_base_answers_from_another_machine_are_shown_beside_the_ones_compared_against():
    exports = study(b=(0.6, 0.65), c=(0.4, 0.45), d=(0.2, 0.25), seeds=(1, 2))
    assert base_lines(by_arm(exports)) == []  # one machine, one base: nothing to show
    other = flipped(columns(0.2, 0.25), 37)  # seed 1's base with 37 answers the other way round
    for e in exports:
        if e["seed"] == 2:
            e["base"] = {BASE_SETTING: other}
            e["precision"] = "fp32"
    lines = base_lines(by_arm(exports))
    first, second = [line for line in lines if line.startswith("| grid-v3arms")]
    assert "seed1" in first and "seed2" not in first and first.split(" | ")[1] == "not recorded"  # compared against
    assert second.split(" | ")[1] == "fp32" and "seed2" in second and "seed1" not in second
    assert second.endswith(" | 37 of 800 |") and first.endswith(" | 0 of 800 |")


def test_arm_a_is_shown_beside_the_gate_cell_that_trained_the_same():
    exports = study(b=(0.6, 0.65), c=(0.4, 0.45), d=(0.2, 0.25), seeds=(1, 2))
    arm_a = by_arm(exports)["A"]
    base = columns(0.2, 0.25)
    same = arm_a[0]["tuned"][TUNED_SETTING]  # seed 1: the gate's machine gave the same answers
    other = flipped(arm_a[1]["tuned"][TUNED_SETTING], 120)  # seed 2: another machine's arithmetic, 120 answers differ
    gate = [export("grid-v3cal-s1", 1e-3, 1, columns(0.1, 0.1, 4), base, snapshot=same),  # A's 160 steps = no point
            export("grid-v3cal-s1-lr2", 2e-3, 1, same, base),  # another learning rate: not A's cell
            export("grid-v3cal-s2", 1e-3, 2, other, base) | {"precision": "bf16"}]
    gate[0]["resolved"]["steps"] = 80  # its run ended at 80; A's 160 steps are nowhere in it
    rows = [line for line in rerun_lines(arm_a, gate) if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert len(rows) == 1 and rows[0].startswith("| 2 | grid-v3cal-s2 (bf16) | grid-v3arms-armworked_control-seed2")
    gate_acc = [accuracy_of(other, t, h) for t, h in (("position", True), ("count", False))]
    assert rows[0].endswith(f" | {gate_acc[0]:.3f} / 0.400 | {gate_acc[1]:.3f} / 0.450 | 1.000 / 1.000 | 120 of 800 |")
    gate[0]["snapshots"] = {"160": {"tuned": {TUNED_SETTING: same}}}  # now it kept A's step: seed 1 shows, same answers
    rows = [line for line in rerun_lines(arm_a, gate) if line.startswith("| 1 ")]
    assert rows == ["| 1 | grid-v3cal-s1 (not recorded) | grid-v3arms-armworked_control-seed1 (not recorded) | "
                    "0.400 / 0.400 | 0.450 / 0.450 | 1.000 / 1.000 | 0 of 800 |"]
    assert rerun_lines(arm_a, []) == []


def test_the_page_has_the_arms_their_reading_and_figures(tmp_path):
    base = columns(0.2, 0.25)
    gate = [export(f"grid-v3cal-s{s}", 1e-3, s, columns(0.5, 0.6, s), base) | {
        "shortcut_levels": LEVELS} for s in (1, 2, 3)]  # fmt: skip
    arms = study(b=(0.6, 0.65), c=(0.4, 0.45), d=(0.2, 0.25))
    words = arms[0]["tuned"][TUNED_SETTING]["word"]
    for run in arms:
        run["covered_share"] = {w: float(i % 2) for i, w in enumerate(dict.fromkeys(words))}
    page = render_page(gate, tmp_path / "study" / "v3-gate.png", arms)
    assert "The gate is passed" in page and "## Step 2: the arms" in page
    assert "**(c) transfer**" in page and "| B − C | hard position |" in page
    assert next(line for line in page.splitlines() if line.startswith("| B − C | count |")).endswith(" | yes | yes |")
    assert "| B | count |" in page  # the covered-share table
    # each rejected gain beside the shortcut level of its measure (LEVELS)
    assert "| B − C | count | 0.650 | 0.250 | +0.400 |" in page
    # each run on its own row; exports without their precision or wall time say so
    assert ("| B | 1 | grid-v3arms-armworked_spelling-seed1 | not recorded | 0.600 | 0.650 | 1.000 | 0.625 | "
            "not recorded |") in page
    arms[1]["wall_s"], arms[1]["precision"] = 5_430, "fp32"  # B seed 1
    page = render_page(gate, tmp_path / "study" / "v3-gate.png", arms)
    assert "| B | 1 | grid-v3arms-armworked_spelling-seed1 | fp32 | 0.600 | 0.650 | 1.000 | 0.625 | 90 min |" in page
    assert "## Arm A beside the gate's own cell (diagnostic)" in page  # the gate's cells trained A's recipe
    # accuracy on both measures, answered, spelled right (here every right reply spelled the word: (0.6 + 0.65) / 2)
    assert "| B worked_spelling | 0.600 ± 0.000 | 0.650 ± 0.000 | 1.000 ± 0.000 | 0.625 ± 0.000 |" in page
    assert (tmp_path / "study" / "v3-arms.png").is_file() and (tmp_path / "study" / "v3-gate.png").is_file()


def resolved(*overrides: str) -> dict:
    return resolved_settings(with_overrides(flatten(load_params()), ["model=qwen25-coder-05b", *overrides]))


def test_the_arms_run_only_after_the_gate_and_at_its_recipe():
    base = columns(0.2, 0.25)
    gate = [export(f"grid-v3cal-s{s}", 1e-3, s, columns(0.5, 0.6, s), base) for s in (1, 2, 3)]  # 1e-3, r 8, 160
    recipe = resolved("train.learning_rate=0.001", "lora.r=8", "train.max_steps=160", "train.arm=worked_control")
    check_arms_recipe(recipe, gate)  # passes: nothing raised
    with pytest.raises(SystemExit, match="gate has not passed on profile qwen25-coder-05b"):
        check_arms_recipe(recipe, gate[:2])  # two seeds are not a pass
    with pytest.raises(SystemExit, match="the gate's recipe is learning rate 0.001, r 8, 160 steps"):
        check_arms_recipe(resolved("train.learning_rate=0.002", "lora.r=8", "train.max_steps=160"), gate)
    # what the run resolves is compared, not the grid's strings: params.yaml's steps when the grid sets none
    with pytest.raises(SystemExit, match=f"r 8, {load_params()['train']['max_steps']} steps; the gate's"):
        check_arms_recipe(resolved("train.learning_rate=0.001"), gate)


def test_the_arms_grid_asks_what_the_calibration_asked():
    cells = grid_cells(Path("grids/v3-arms.yaml"))
    assert len(cells) == 12 and all(c.name.startswith("grid-v3arms-qwen25-coder-05b-seed") for c in cells)
    arms = {o.split("=", 1)[1] for c in cells for o in c.overrides if o.startswith("train.arm=")}
    assert arms == set(V3_ARMS.values())
    spec, calibration = (grid_spec(Path(f"grids/{g}.yaml"))["set"] for g in ("v3-arms", "v3-calibration"))
    # the same test questions and settings, so base's answers are shared and the arms compare with the gate
    asked = {k for k in calibration if k.startswith("evaluate.") or k == "model"}
    assert {k: spec[k] for k in asked} == {k: calibration[k] for k in asked}
    assert spec["evaluate.unseen_per_task"] > 0 and spec["replay.records"] > 0
    assert all(k in spec for k in ("train.learning_rate", "lora.r", "train.max_steps"))
    # the committed exports passed the gate, and the committed grid is at its recipe: `study run` accepts it
    check_arms_recipe(resolved(*cells[0].overrides), exports_of("v3cal", "qwen25-coder-05b"))
