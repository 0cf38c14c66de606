"""Studies through the real DVC on the tiny profile, over data built once (tests/conftest.py: data_project): one
cell of a grid run by its index, exported and paged by profile; the context and cost checks before a GPU starts; study
v3's arm D (coverage pass plus the base model's own replies)."""

import itertools
import json
import re
import sys

import pytest

from strawberry.study.piece_spelling import LENGTHS, PER_GROUP
from strawberry.study.runs import runs
from tests.conftest import data_project, run
from tests.test_pipeline_model import TINY


@pytest.fixture(scope="module")
def repo(tmp_path_factory, shared_tmp):
    return data_project(tmp_path_factory.mktemp("study"), TINY, shared_tmp)


TINY_GATE = """name: tinycal
set:
  model: tiny-qwen3
  train.arm: worked_control
  train.val_mode: worked
  train.val_shots: 0
  train.snapshot_steps: "[2]"
  evaluate.shots: "[]"
  evaluate.spell_first_shots: "[]"
  evaluate.worked_shots: "[0,3]"
  evaluate.tuned_settings: "[worked_0shot]"
grid:
  train.seed: [1, 2]
"""


def test_one_cell_of_a_grid_runs_exports_and_pages_one_profile(repo, tmp_path):
    """`scripts.study run --grid --index 1`: the second of two worked-mode cells on the tiny profile (one cell, to fit
    a session), exported with its grid, profile and resolved settings; a second run skips it; the page reads this
    profile's exports and ignores another's. (Base's answers reused by a later experiment: tests/test_experiments.py
    and tests/test_cells.py.)"""
    (repo / "grids" / "tinycal.yaml").write_text(TINY_GATE)
    run(["git", "add", "grids/tinycal.yaml"], repo)  # `dvc exp run --temp` copies what git tracks
    run(["git", "commit", "-qm", "tiny gate grid"], repo)
    grid = ["--grid", "grids/tinycal.yaml"]
    args = [*grid, "--index", "1"]
    out = run([sys.executable, "-m", "scripts.study", "run", *args], repo, timeout=1800).stdout
    first, name = (f"grid-tinycal-tiny-qwen3-seed{seed}" for seed in (1, 2))
    assert f"[2/2] {name}" in out and first not in out, out[-3000:]
    # base's answers in the grid's settings are computed once, beside the cell's own evaluation
    assert out.count("Running stage 'evaluate_base'") == 1 and out.count("Running stage 'evaluate':") == 1, out[-3000:]
    exports = {p.stem: json.loads(p.read_text()) for p in (repo / "metrics/study").glob("*.json")}
    assert sorted(exports) == [name]  # the record to commit
    export = exports[name]
    assert (export["grid"], export["profile"]) == ("tinycal", "tiny-qwen3")
    resolved = export["resolved"]
    assert (resolved["steps"], resolved["learning_rate"]) == (TINY["train.max_steps"], TINY["train.learning_rate"])
    assert resolved["precision"] == export["precision"] and resolved["seed"] == 2
    assert sorted(export["snapshots"]) == ["2"] and "worked_3shot" in export["base"]
    # the piece-spelling diagnostic (study v4 on): base and this run's adapter, the same drawn pieces
    spelled = export["piece_spelling"]
    assert spelled["precision"] == export["precision"]
    for model, group in itertools.product(("base", "tuned"), ("covered", "uncovered")):
        tally = spelled[model][group]
        drawn = min(PER_GROUP, len(export["piece_coverage"][group]))
        assert tally["all"]["n"] == drawn == sum(tally[b]["n"] for b in LENGTHS) > 0
    shown = {r["name"]: r for r in runs(json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout))}
    assert export["metrics"] == shown[name]["metrics"]  # numbers traceable to exp show
    again = run([sys.executable, "-m", "scripts.study", "run", *args], repo).stdout
    assert again.count("already exported to metrics/study/") == 1 and first not in again  # finished runs are kept
    assert "spelling covered" not in again  # and so are their diagnostics
    page = tmp_path / "study.md"
    run([sys.executable, "-m", "scripts.study", "page", *grid, "--out", str(page)], repo)
    text = page.read_text()
    assert "## Step 1: the calibration gate" in text and f"{name} " in text
    # another profile's run of the same grid is not on this profile's page
    other = export | {"profile": "smollm2-135m", "name": "grid-tinycal-smollm2-135m-seed1"}
    (repo / "metrics/study/grid-tinycal-smollm2-135m-seed1.json").write_text(json.dumps(other))
    run([sys.executable, "-m", "scripts.study", "page", *grid, "--out", str(tmp_path / "again" / "study.md")], repo)
    assert (tmp_path / "again" / "study.md").read_text() == text
    assert (tmp_path / "study" / "v3-gate.png").stat().st_size > 1000


def test_preflight_and_plan_check_the_context_before_a_gpu_starts(repo, tmp_path):
    """The longest worked 3-shot prompt and its reply against an Unsloth profile's max_seq_length: refused naming both
    numbers; a grid's plan prints its cells, steps, replies and GPU hours."""
    grid = repo / "grids" / "context.yaml"
    grid.write_text(TINY_GATE.replace("name: tinycal", "name: context").replace(
        "model: tiny-qwen3", "model: tiny-qwen3-unsloth\n  profiles.tiny-qwen3-unsloth.max_seq_length: 200"))
    short = run([sys.executable, "-m", "scripts.preflight", "--no-remote", "--grid", str(grid)], repo, check=False)
    line = next((x for x in short.stdout.splitlines() if x.startswith("context:")), short.stdout + short.stderr)
    need = int(re.search(r"cannot hold (\d+) tokens", line).group(1))
    assert "context: FAILED: profile tiny-qwen3-unsloth: max_seq_length 200 cannot hold" in line and need > 200, line
    assert "worked_3shot" in line and "Raise profiles.tiny-qwen3-unsloth.max_seq_length to at least" in line
    grid.write_text(grid.read_text().replace("max_seq_length: 200", f"max_seq_length: {need}"))
    fits = run([sys.executable, "-m", "scripts.preflight", "--no-remote", "--grid", str(grid)], repo, check=False)
    assert f"context: max_seq_length {need} holds {need} tokens" in fits.stdout, fits.stdout
    plan = run([sys.executable, "-m", "scripts.study", "plan", "--grid", str(grid)], repo).stdout
    assert f"context: max_seq_length {need} holds" in plan
    assert "grid-context-tiny-qwen3-unsloth-seed1" in plan and "2 cells, 8 training steps" in plan, plan
    assert re.search(r"about \d+\.\d GPU-hours on one H100", plan), plan


def test_study_v3_arm_d_trains_on_coverage_and_the_base_models_own_replies(repo):
    """Arm D through the real DVC: the replay stage asks the base model worked questions about other words (its
    replies, not the answers, become records), train takes one pass over the coverage set and them, evaluate asks
    the worked mode and the unseen wordings; the tuned model only in the setting that decides (tuned_settings),
    base in every one."""
    import dvc.api

    overrides = ["replay.records=4", "replay.shots=1", "train.arm=spelling_replay", "train.eval_steps=1000",
                 "train.batch_size=16", "evaluate.shots=[0]", "evaluate.spell_first_shots=[]",
                 "evaluate.worked_shots=[0]", "evaluate.unseen_per_task=2",
                 "evaluate.tuned_settings=[worked_0shot]"]  # fmt: skip
    run(["dvc", "exp", "run", "--temp", "-n", "arm-d", *[a for o in overrides for a in ("-S", o)]], repo, timeout=900)
    row = next(r for r in runs(json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)) if r["name"] == "arm-d")

    def read(path: str) -> str:
        return dvc.api.read(path, repo=str(repo), rev=row["rev"])

    replay = [json.loads(line) for line in read("data/replay/replay.jsonl").splitlines()]
    worked = [json.loads(line) for line in (repo / "data/splits/train_worked_control.jsonl").open()]
    asked = [r for r in worked if r["meta"]["task"] in ("position", "count")][:4]
    assert [r["instruction"] for r in replay] == [r["instruction"] for r in asked]
    assert [r["output"] for r in replay] != [r["output"] for r in asked]  # the tiny model's replies, not the answers
    coverage = (repo / "data/splits/train_coverage.jsonl").read_text().splitlines()
    steps = json.loads(read("metrics/train.json"))["steps"]
    assert steps == -(-(len(coverage) + 4) // 16)  # one pass over both at batch 16, no worked part
    details = json.loads(read("metrics/eval_details.json"))
    assert details["settings"] == ["worked_0shot"] and details["unseen"]["position"]["n"] == 2
    asked = {(r["model"], r["setting"]) for r in map(json.loads, read("eval/predictions.jsonl").splitlines())}
    assert asked == {("base", "0shot"), ("base", "worked_0shot"), ("tuned", "worked_0shot")}


def test_a_grid_with_min_group_is_refused_until_its_questions_fill_both_piece_groups(repo, monkeypatch):
    """Study v4's min_group, counted on the questions the grid's evaluation asks of the built data: each deciding
    measure's covered / uncovered test questions (what `plan` prints), and a minimum above them refuses the grid
    (every subcommand plans its cells through it), naming them."""
    from scripts.study import check_groups, planned_cells
    from strawberry.cells import grid_cells
    from strawberry.study.pieces import COVERED, UNCOVERED, group_sizes

    monkeypatch.chdir(repo)  # the grid's params and built data, as a subcommand run there reads them
    grid = repo / "grids" / "groups.yaml"
    grid.write_text(TINY_GATE.replace("name: tinycal", "name: groups\nmin_group: 1").replace(
        "set:\n", "set:\n  evaluate.questions_per_task: 60\n"))  # counted, never asked: no model runs
    sizes = check_groups(grid, grid_cells(grid))
    assert set(sizes) == {"position", "count"} and all(min(by.values()) >= 1 for by in sizes.values()), sizes
    # no more than the test split holds: the deciding measure's questions, by where the asked letter sits
    covered = set(json.loads((repo / "data/generated/piece_coverage.json").read_text())["covered"])
    test = [json.loads(x) for x in (repo / "data/splits/test.jsonl").read_text().splitlines()]
    everything = group_sizes(test, covered)
    assert all(sizes[t][k] <= everything[t][k] for t in sizes for k in (COVERED, UNCOVERED))
    grid.write_text(grid.read_text().replace("min_group: 1", "min_group: 100000"))
    with pytest.raises(SystemExit, match=f"fewer than min_group=100000 test questions in a group \\(position "
                       f"covered: {sizes['position'][COVERED]}; "):  # fmt: skip
        planned_cells(grid)
