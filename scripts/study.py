"""The study: arms x seeds + a dose-response run as DVC experiments, then the page that aggregates them.

One machine, one run after another:
    .venv/bin/python -m scripts.study run [--model qwen25-coder-05b] [--seeds 1 2 3] [--dose 4] [--arms ...]
    .venv/bin/python -m scripts.study run --grid grids/v3-calibration.yaml   # a grid's cells instead
Many GPUs, one cell (= one experiment) per job (docs/experiments.md; deploy/k8s/study-job.yaml, deploy/skypilot/):
    python -m scripts.study cells [--model qwen3-4b | --grid grids/lora-rank.yaml]   # list the cells
    python -m scripts.study cell --index N [same options]      # or $CELL_INDEX: pull, exp run, exp push
    python -m scripts.study pull [same options]                # fetch finished cells and export them
Then:
    .venv/bin/python -m scripts.study calibration      # study v3's page, docs/study.md: the gate, the arms, the reading
    .venv/bin/python -m scripts.study report --out PAGE [--model qwen25-coder-05b]   # an arms x seeds study's page

`run` starts one `dvc exp run --temp` per planned run (strawberry.study.runs.plan) and exports each finished run to
metrics/study/<name>.json: commit those files, they are the study's record. A run already exported is skipped, so a
study cut off by the end of a session resumes where it stopped: the run that was going is run again, its training
from its last checkpoint (one every 25 steps, in models/checkpoints/). The base model's answers come from
evaluate_base once; every run reuses them.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from strawberry.cells import cell_index, grid_cells, pull_cells, run_cell, study_cells
from strawberry.dvc_cli import dvc_run
from strawberry.jsonl import write_atomic
from strawberry.params import load_params
from strawberry.study import ARMS, DOSE_FACTOR, EXPORTS
from strawberry.study.calibration import CALIBRATION_PREFIX, render_calibration
from strawberry.study.page import render_page
from strawberry.study.runs import exp_show_runs, export_run, exported, exports_named, load_exports
from strawberry.study.transfer import ARMS_PREFIX, check_arms_recipe


def planned_cells(args: argparse.Namespace) -> list:
    if getattr(args, "grid", None):
        cells = grid_cells(args.grid)
        if cells and cells[0].name.startswith(ARMS_PREFIX):  # study v3's arms: only after the gate, at its recipe
            check_arms_recipe(cells[0].overrides, exports_named(CALIBRATION_PREFIX))
        return cells
    params = load_params()
    return study_cells(args.model or params["model"], args.seeds, args.dose, params["train"]["max_steps"], args.arms)


def resumable_env() -> dict[str, str]:
    """Training checkpoints in this checkout (not in the run's --temp copy, which a rerun does not reuse), one every
    25 steps: a run cut off by a session's end resumes there instead of training again from step 0."""
    here = str(Path("models/checkpoints").resolve())
    return {"STRAWBERRY_CHECKPOINTS": os.environ.get("STRAWBERRY_CHECKPOINTS", here),
            "STRAWBERRY_RESUME_EVERY": os.environ.get("STRAWBERRY_RESUME_EVERY", "25")}  # fmt: skip


def run_study(args: argparse.Namespace) -> None:
    todo = planned_cells(args)
    for i, cell in enumerate(todo, 1):
        name = cell.name
        if exported(name).is_file():
            print(f"[{i}/{len(todo)}] {name}: already exported to {exported(name)}, skipped", flush=True)
            continue
        print(f"[{i}/{len(todo)}] {name}: dvc exp run --temp {' '.join(cell.set_args)}", flush=True)
        wall_s = None
        if name not in {r["name"] for r in exp_show_runs()}:
            start = time.monotonic()
            if dvc_run("exp", "run", "--temp", "-n", name, *cell.set_args, env=resumable_env()).returncode != 0:
                sys.exit(f"{name} failed; the experiments before it are kept (rerun to resume)")
            wall_s = round(time.monotonic() - start)
        print(f"[{i}/{len(todo)}] {name}: exported to {export_run(name, wall_s)} (commit it)", flush=True)


def list_cells(args: argparse.Namespace) -> None:
    cells = planned_cells(args)
    for i, cell in enumerate(cells):
        print(f"{i}\t{cell.name}\t{' '.join(cell.overrides)}")
    print(f"{len(cells)} cells: set the Job's completions (or launch indices 0 .. {len(cells) - 1})", file=sys.stderr)


def one_cell(args: argparse.Namespace) -> None:
    cells = planned_cells(args)
    cell = cells[cell_index(args.index, len(cells))]
    if exported(cell.name).is_file():  # run by `scripts.study run` or pulled before, and committed: the study has it
        print(f"cell {cell.name}: already exported to {exported(cell.name)} at this commit: nothing to do", flush=True)
        return
    run_cell(cell, args.git_remote)


def pull(args: argparse.Namespace) -> None:
    done, missing = pull_cells(planned_cells(args), args.git_remote)
    print(f"exported {len(done)} cells to metrics/study/ (commit them)"
          + (f"; not on {args.git_remote} yet: {', '.join(missing)}" if missing else ""))  # fmt: skip


def report_study(args: argparse.Namespace) -> None:
    params = load_params()
    exports = load_exports(args.model)  # every profile's, unless --model: report refuses a mix
    if not exports:
        sys.exit(f"no study exports{f' of profile {args.model}' if args.model else ''} in metrics/study/: "
                 "run `python -m scripts.study run`")  # fmt: skip
    page = render_page(exports, args.out.parent / "study" / "deciding.png", params["train"]["max_steps"], args.seeds,
                       args.dose, args.arms)  # fmt: skip
    write_atomic(args.out, page)
    print(f"wrote {args.out} ({len(exports)} runs)")


def calibration(args: argparse.Namespace) -> None:
    exports = exports_named(CALIBRATION_PREFIX)
    if not exports:
        sys.exit(f"no calibration exports ({EXPORTS}/{CALIBRATION_PREFIX}*.json): run "
                 "`python -m scripts.study run --grid grids/v3-calibration.yaml`")  # fmt: skip
    arms = exports_named(ARMS_PREFIX)
    page = render_calibration(exports, args.out.parent / "study" / "v3-gate.png", arms)
    write_atomic(args.out, page)
    print(f"wrote {args.out} ({len(exports)} calibration runs, {len(arms)} arm runs)")


COMMANDS = {
    "run": (run_study, "run the planned experiments here, one after another (skips those already exported)"),
    "cells": (list_cells, "list the cells: index, experiment name, -S overrides"),
    "cell": (one_cell, "run one cell (--index or $CELL_INDEX) and push it to the remotes; done cells exit at once"),
    "pull": (pull, "fetch every finished cell from the remotes and export it to metrics/study/"),
    "report": (report_study, "an arms x seeds study's page (study v2's design) from the exports"),
    "calibration": (calibration, "study v3's page (docs/study.md): the calibration gate, the arms, the reading"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, text) in COMMANDS.items():
        p = sub.add_parser(name, help=text)
        p.add_argument("--model", help="profile (default: params.yaml's model; report: the exports' profile)")
        p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
        p.add_argument("--dose", type=int, default=DOSE_FACTOR, help="dose-response run at this many times the steps "
                       "(0: none)")  # fmt: skip
        p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS), help="some of the arms only (a first "
                       "look; the study is all four)")  # fmt: skip
        if name in ("run", "cells", "cell", "pull"):
            p.add_argument("--grid", type=Path, help="a grid file (grids/*.yaml) instead of the study's plan")
        if name in ("cell", "pull"):
            p.add_argument("--git-remote", default="origin", help="the git remote that holds the cells' experiments")
    sub.choices["cell"].add_argument("--index", type=int, help="the cell to run (default: $CELL_INDEX)")
    sub.choices["report"].add_argument("--out", type=Path, required=True, help="the page to write (docs/study.md is "
                                       "study v3's, made by `calibration`)")  # fmt: skip
    sub.choices["calibration"].add_argument("--out", type=Path, default=Path("docs/study.md"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    COMMANDS[args.command][0](args)


if __name__ == "__main__":
    main()
