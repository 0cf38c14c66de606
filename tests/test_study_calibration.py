"""Study v3's calibration gate on outcome columns whose answer is known: a tuned model right where base is wrong
passes, one no better than base does not, a gain on one measure only does not; recipes need every seed."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from strawberry.cells import grid_cells, grid_spec
from strawberry.params import load_params
from strawberry.study.gate import (
    BASE_SETTING,
    TUNED_SETTING,
    gate_rows,
    open_recipes,
    passing_recipes,
    shortcut_levels,
)

N_WORDS = 400  # two questions per word: a middle-letter position question and a count question (the gate's 400 each)


def columns(position_right: float, count_right: float, seed: int = 0, n_words: int = N_WORDS,
            formatted: bool = False) -> dict:
    """Outcome columns (as strawberry.study.runs.outcomes writes them) with these shares right, spread at random;
    only the right replies have an answer line, or every reply has one (`formatted`)."""
    rng = np.random.default_rng(seed)
    words = [f"word{i}" for i in range(n_words)]
    cols = {"task": [], "word": [], "hard": [], "expected": [], "asked": [], "correct": [], "strict": [],
            "answered": [], "spelled": []}  # fmt: skip
    for task, share in (("position", position_right), ("count", count_right)):
        right = rng.permutation(np.arange(n_words) < round(share * n_words))
        for word, ok in zip(words, right):
            cols["task"].append(task)
            cols["word"].append(word)
            cols["hard"].append(True)
            cols["expected"].append("e" if task == "position" else str(len(word) % 4))
            cols["asked"].append({"letter": "e", "length": 5, "position": 3, "position_category": "middle"}
                                 if task == "position" else {"letter": "aeio"[len(word) % 4], "length": None,
                                                             "position": None, "position_category": None})  # fmt: skip
            for key in ("correct", "strict", "answered", "spelled"):
                cols[key].append(float(ok or (formatted and key == "answered")))
    return cols


def export(name: str, lr: float, seed: int, tuned: dict, base: dict, snapshot: dict | None = None, r: int = 8) -> dict:
    return {"name": name, "seed": seed, "resolved": {"learning_rate": lr, "lora_r": r, "steps": 160},
            "base": {BASE_SETTING: base}, "tuned": {TUNED_SETTING: tuned},
            "snapshots": {"80": {"tuned": {TUNED_SETTING: snapshot}}} if snapshot else {}}  # fmt: skip


def test_the_gate_needs_ten_points_on_both_measures():
    base = columns(0.2, 0.25)
    rows = gate_rows([export("a", 2e-3, 1, columns(0.5, 0.6, 1), base, snapshot=columns(0.25, 0.3, 2))])
    by_steps = {r["steps"]: r for r in rows}
    assert by_steps[160]["passes"] and by_steps[160]["position"]["diff"] > 0.25
    assert by_steps[160]["position"]["p"] < 0.01 and by_steps[160]["position"]["base"] == 0.2
    assert not by_steps[80]["passes"]  # +0.05 on each: below the gate
    one_only = gate_rows([export("b", 2e-3, 1, columns(0.6, 0.25, 1), base)])[0]
    assert one_only["position"]["diff"] > 0.3 and not one_only["passes"]  # count did not move
    small = gate_rows([export("c", 2e-3, 1, columns(0.5, 0.6, 1, 200), columns(0.2, 0.25, 0, 200))])[0]
    assert small["screening"] and small["position"]["p"] < 0.01 and not small["passes"]  # 200 questions: a look only


def test_a_recipe_passes_on_every_seed_and_the_cheapest_comes_first():
    base = columns(0.2, 0.25)
    good = [export(f"g{s}", 1e-3, s, columns(0.5, 0.6, s), base, snapshot=columns(0.5, 0.6, 10 + s)) for s in (1, 2, 3)]
    assert passing_recipes(gate_rows(good)) == [(1e-3, 8, 80), (1e-3, 8, 160)]
    failing_seed = good[:2] + [export("g3", 1e-3, 3, columns(0.2, 0.25, 3), base)]
    # seed 3 fails at 160 steps, and has no 80-step snapshot: 80 steps has two seeds only
    assert passing_recipes(gate_rows(failing_seed)) == []
    assert passing_recipes(gate_rows(good[:2])) == []  # two seeds are not three
    assert open_recipes(gate_rows(good[:2])) == [(1e-3, 8, 80), (1e-3, 8, 160)]
    assert open_recipes(gate_rows(failing_seed)) == [(1e-3, 8, 80)]  # 160 steps failed on seed 3


def test_the_verdict_moves_on_when_the_named_recipe_fails_a_seed(tmp_path):
    from strawberry.study.page import render_page

    base, levels = columns(0.2, 0.25), {"shortcut_levels": {"position": 0.12, "count": 0.235}}
    # r 8 passed on seed 1 and failed on seed 2; r 16 passed on seed 1: r 16 is next
    runs = [export("grid-v3cal-r8-s1", 2e-3, 1, columns(0.5, 0.6, 1), base) | levels,
            export("grid-v3cal-r8-s2", 2e-3, 2, columns(0.2, 0.25, 2), base) | levels,
            export("grid-v3cal-r16-s1", 2e-3, 1, columns(0.5, 0.6, 3), base, r=16) | levels]  # fmt: skip
    verdict = render_page(runs, tmp_path / "g.png").split("### Verdict so far")[1].split("###")[0]
    assert "learning rate 0.002, r 16, 160 steps comes first" in verdict and "seed(s) 1:" in verdict
    verdict = render_page(runs[:2], tmp_path / "g.png").split("### Verdict so far")[1].split("###")[0]
    assert "Every recipe that passed on a seed failed on another (learning rate 0.002, r 8, 160 steps)" in verdict


def test_a_recipe_that_kept_the_format_comes_before_a_cheaper_one_that_lost_it():
    base = columns(0.2, 0.25)
    # lr 2e-3 passes at 80 steps but its 160-step end lost the format; lr 1e-3 passes at 160 steps and kept it
    fast = [export(f"f{s}", 2e-3, s, columns(0.2, 0.25, s), base, snapshot=columns(0.5, 0.6, 10 + s))
            for s in (1, 2, 3)]  # fmt: skip
    steady = [export(f"s{s}", 1e-3, s, columns(0.5, 0.6, s, formatted=True), base) for s in (1, 2, 3)]
    assert passing_recipes(gate_rows(fast + steady)) == [(1e-3, 8, 160), (2e-3, 8, 80)]
    assert passing_recipes(gate_rows(fast)) == [(2e-3, 8, 80)]  # none kept it: the cheapest


def test_shortcut_levels_are_measured_on_the_deciding_questions():
    val = [{"meta": {"task": "count", "letter": "aeio"[i % 4], "word": "x"}, "output": str(i % 4)} for i in range(40)]
    val += [{"meta": {"task": "position", "length": 5, "position": 3, "position_category": "middle", "letter": "e",
                      "word": "x"}, "output": "e"} for _ in range(10)]  # fmt: skip
    levels = shortcut_levels(export("a", 1e-3, 1, columns(0.5, 0.5), columns(0.2, 0.2)), val)
    # every position question asks "e" at length 5, position 3: the letter-only rule fitted on val gets them all
    assert levels["position"] == 1.0
    # count: each word's letter tells its count here (expected = len % 4, letter = "aeio"[len % 4])
    assert levels["count"] == 1.0


def test_the_page_shows_every_cell_step_and_the_verdict(tmp_path):
    from strawberry.study.page import render_page

    base = columns(0.2, 0.25)
    runs = [export("grid-v3cal-a", 2e-3, 1, columns(0.5, 0.6, 1), base, snapshot=columns(0.22, 0.3, 2)) |
            {"shortcut_levels": {"position": 0.12, "count": 0.235}, "wall_s": 7200}]  # fmt: skip
    page = render_page(runs, tmp_path / "study" / "v3-gate.png")
    table = [line for line in page.splitlines() if line.startswith("| 0.002 | 8 |")]
    assert len(table) == 4  # 80 and 160 steps, in the gate table and in the diagnostics table
    assert "| 0.002 | 8 | 160 | 1 | 0.500 / 0.200 |" in page and page.count("| yes |") == 1
    assert "hard position 0.120, count 0.235" in page and "grid-v3cal-a 120 min" in page
    assert "1 cell-step(s) passed on a seed; learning rate 0.002, r 8, 160 steps comes first" in page
    assert "passed on seed(s) 1: the gate needs 3 seeds" in page
    assert (tmp_path / "study" / "v3-gate.png").stat().st_size > 10_000


def test_a_full_size_pass_outranks_a_screening_look(tmp_path):
    from strawberry.study.page import render_page

    base, small = columns(0.2, 0.25), columns(0.2, 0.25, 0, 200)
    levels = {"shortcut_levels": {"position": 0.12, "count": 0.235}}
    runs = [export("grid-v3cal-full", 2e-3, 1, columns(0.5, 0.6, 1), base) | levels,
            export("grid-v3cal-screen", 2e-3, 1, columns(0.5, 0.6, 1, 200), small) | levels]  # fmt: skip
    page = render_page(runs, tmp_path / "study" / "v3-gate.png")
    assert open_recipes(gate_rows(runs)) == [(2e-3, 8, 160)]  # the screening look's row neither passes nor fails it
    assert "passed on a seed" in page and "screening look(s)" not in page.split("### Verdict so far")[1]


@pytest.mark.parametrize("grid", ["v3-calibration-seeds", "v3-calibration-seeds-80"])
def test_the_seeds_grids_are_the_calibration_stopped_at_the_recipes_steps(grid):
    seeds, calibration = (grid_spec(Path(f"grids/{g}.yaml")) for g in (grid, "v3-calibration"))
    stopped = {"train.max_steps", "train.patience", "train.eval_steps", "train.snapshot_steps"}
    assert {k: v for k, v in seeds["set"].items() if k not in stopped} == {
        k: v for k, v in calibration["set"].items() if k not in stopped}
    # a shorter run is the snapshot of a longer one only while the learning rate is constant after warmup
    assert load_params()["train"]["lr_scheduler"] == "constant_with_warmup"
    steps = seeds["set"]["train.max_steps"]
    assert steps in [*yaml.safe_load(calibration["set"]["train.snapshot_steps"]), calibration["set"]["train.max_steps"]]
    assert seeds["set"]["train.patience"] == seeds["set"]["train.eval_steps"] == steps  # validated once, at the end
    assert set(seeds["grid"]["train.seed"]).isdisjoint(calibration["grid"]["train.seed"])
    cells = grid_cells(Path(f"grids/{grid}.yaml"))
    assert all(c.name.startswith("grid-v3cal-qwen25-coder-05b-") for c in cells)


def test_committed_v3_page_is_generated_from_the_committed_exports(tmp_path):
    # README's v3 numbers are checked against docs/study.md: it must be what `calibration` makes of the exports
    import subprocess
    import sys

    page = tmp_path / "study.md"
    subprocess.run([sys.executable, "-m", "scripts.study", "page", "--out", str(page)], check=True)
    assert page.read_text() == Path("docs/study.md").read_text()
    assert (tmp_path / "study" / "v3-gate.png").stat().st_size > 10_000
