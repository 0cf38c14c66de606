"""A study: the cells of a grid file (one profile, every setting its runs need) as DVC experiments, then its page.

One machine, one run after another:
    .venv/bin/python -m scripts.study run --grid grids/v3-calibration.yaml   # each finished cell -> metrics/study/
    .venv/bin/python -m scripts.study run --grid grids/v4.yaml --index 1     # one cell (its index in `cells`)
Many GPUs, one cell (= one experiment) per job (docs/experiments.md; deploy/k8s/study-job.yaml, deploy/skypilot/):
    python -m scripts.study prepare --grid G                # once: data, base's answers, replies -> DVC remote
    python -m scripts.study cells --grid G                  # list the cells
    python -m scripts.study cell --grid G --index N         # or $CELL_INDEX: pull, exp run, exp push
    python -m scripts.study pull --grid G                   # fetch finished cells and export them
Before a paid run:
    python -m scripts.study plan --grid grids/v3-calibration-qwen3-4b.yaml   # steps, replies, context, GPU hours
    python -m scripts.study smoke --model qwen3-4b      # one cut-down cell through every link, then `dvc exp push`
Then:
    .venv/bin/python -m scripts.study page [--grid grids/v3-arms.yaml] [--out docs/study.md]

`run` starts one `dvc exp run --temp` per cell and exports each finished run to metrics/study/<cell>.json (the name
carries the grid and the profile): commit those files, they are the study's record. A cell already exported is
skipped, so a study cut off by the end of a session resumes where it stopped: the run that was going is run again,
its training from its last checkpoint (one every 25 steps, in models/checkpoints/). The base model's answers come
from evaluate_base once; every run reuses them. An arms grid (one with `gate:`) runs only after that gate passed on
the same profile, at its recipe.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from strawberry.cells import Cell, cell_index, grid_cells, grid_spec, prepare, pull_cells, run_cell
from strawberry.dvc_cli import dvc_run
from strawberry.jsonl import write_atomic
from strawberry.params import load_params
from strawberry.profiles import load_profile, stage_settings
from strawberry.reply_cache import REPLY_CACHE
from strawberry.study.gate import check_arms_recipe
from strawberry.study.page import render_page
from strawberry.study.piece_page import render_piece_page
from strawberry.study.resolved import cell_params, flatten, resolved_settings, with_overrides
from strawberry.study.runs import exp_show_runs, export_run, exported, exports_of

GRIDS = Path("grids")
SMOKE = GRIDS / "smoke.yaml"
DEFAULT_PAGE = Path("docs/study.md")


def study_of(grid: Path) -> tuple[str, str, Path | None]:
    """(the grid's name, its profile, the gate grid it runs after or None) of a grid file."""
    spec = grid_spec(grid)
    gate = grid.parent / str(spec["gate"]) if spec.get("gate") else None
    return str(spec.get("name")), str((spec.get("set") or {}).get("model")), gate


def check_groups(grid: Path, cells: list[Cell]) -> dict[str, dict[str, int]] | None:
    """A grid with `min_group:` (study v4) needs that many test questions of each deciding measure in the covered and
    in the uncovered group, counted on the questions its evaluation will ask (the built data): refused before any run
    otherwise. Returns the sizes (None: the grid sets no minimum)."""
    minimum = grid_spec(grid).get("min_group")
    if not minimum:
        return None
    from strawberry.evaluation import question_sets
    from strawberry.study.pieces import group_sizes

    coverage = Path("data/generated/piece_coverage.json")
    if not coverage.is_file():
        sys.exit(f"{grid}: min_group needs the built data ({coverage}): `dvc repro analyze` or `dvc pull` first")
    params = cell_params(load_params(), cells[0].overrides)
    cfg = stage_settings(params, load_profile(params), "evaluate")
    sizes = group_sizes(question_sets({**cfg, "extra": {}, "unseen_per_task": 0})["test"],
                        set(json.loads(coverage.read_text())["covered"]))  # fmt: skip
    short = [f"{task} {kind}: {n}" for task, by in sizes.items() for kind, n in by.items() if n < minimum]
    if short:
        sys.exit(f"{grid}: fewer than min_group={minimum} test questions in a group ({'; '.join(short)}): ask more "
                 "(evaluate.questions_per_task) or draw more eval words (generate.eval_words) before any run")
    return sizes


def planned_cells(grid: Path) -> list[Cell]:
    """The grid's cells; an arms grid's only after its gate passed on the same profile, at the gate's recipe; a grid
    with `min_group:` only when its questions fill both groups (check_groups)."""
    cells = grid_cells(grid)
    check_groups(grid, cells)
    _, profile, gate = study_of(grid)
    if gate is not None:
        resolved = resolved_settings(with_overrides(flatten(load_params()), cells[0].overrides))
        check_arms_recipe(resolved, exports_of(study_of(gate)[0], profile))
    return cells


# Where a study keeps its finished batches of replies: in git, so that its answers outlive the machine (text, ~0.2 MB
# per 4,000 short replies)
REPLY_CACHE_FOLDER = "models/reply-cache"


def resumable_env() -> dict[str, str]:
    """Training checkpoints in this checkout (not in the run's --temp copy, which a rerun does not reuse), one every
    25 steps, and the finished batches of greedy replies (strawberry.reply_cache): a run cut off by a session's end
    resumes there instead of training or answering again from the start."""
    defaults = {"STRAWBERRY_CHECKPOINTS": str(Path("models/checkpoints").resolve()),
                "STRAWBERRY_RESUME_EVERY": "25", REPLY_CACHE: str(Path(REPLY_CACHE_FOLDER).resolve())}  # fmt: skip
    return {name: os.environ.get(name, value) for name, value in defaults.items()}


def run_study(args: argparse.Namespace) -> None:
    cells = planned_cells(args.grid)
    todo = list(enumerate(cells, 1))
    if args.index is not None:  # one cell, to fit what is left of a session: the others wait their turn
        todo = [todo[cell_index(args.index, len(cells))]]
    os.environ.update(resumable_env())  # the piece-spelling diagnostic below resumes from the reply cache too
    for i, cell in todo:
        name = cell.name
        if exported(name).is_file():
            print(f"[{i}/{len(cells)}] {name}: already exported to {exported(name)}, skipped", flush=True)
            add_piece_spelling(cell)  # where a session ended between the export and its diagnostic
            continue
        print(f"[{i}/{len(cells)}] {name}: dvc exp run --temp {' '.join(cell.set_args)}", flush=True)
        wall_s = None
        if name not in {r["name"] for r in exp_show_runs()}:
            start = time.monotonic()
            if dvc_run("exp", "run", "--temp", "-n", name, *cell.set_args, env=resumable_env()).returncode != 0:
                sys.exit(f"{name} failed; the experiments before it are kept (rerun to resume)")
            wall_s = round(time.monotonic() - start)
        print(f"[{i}/{len(cells)}] {name}: exported to {export_run(name, wall_s)} (commit it)", flush=True)
        add_piece_spelling(cell)


def add_piece_spelling(cell: Cell) -> None:
    """Study v4's piece-spelling diagnostic into an export that carries covered pieces and lacks it, computed from
    the run's adapter while this checkout's DVC cache holds it."""
    record = json.loads(exported(cell.name).read_text())
    if "piece_coverage" not in record or "piece_spelling" in record:
        return
    from strawberry.study.piece_spelling import add_to_export

    print(f"{cell.name}: spelling covered and uncovered pieces (base and the run's adapter)", flush=True)
    add_to_export(exported(cell.name), cell_params(load_params(), cell.overrides))


def list_cells(args: argparse.Namespace) -> None:
    cells = planned_cells(args.grid)
    for i, cell in enumerate(cells):
        print(f"{i}\t{cell.name}\t{' '.join(cell.overrides)}")
    print(f"{len(cells)} cells: set the Job's completions (or launch indices 0 .. {len(cells) - 1})", file=sys.stderr)


def prepare_cells(args: argparse.Namespace) -> None:
    ran = prepare(planned_cells(args.grid))
    print(f"prepared {len(ran)} setting(s): start the cells now (they pull base's answers instead of computing them)")


def one_cell(args: argparse.Namespace) -> None:
    cells = planned_cells(args.grid)
    cell = cells[cell_index(args.index, len(cells))]
    if exported(cell.name).is_file():  # run by `scripts.study run` or pulled before, and committed: the study has it
        print(f"cell {cell.name}: already exported to {exported(cell.name)} at this commit: nothing to do", flush=True)
        return
    run_cell(cell, args.git_remote)


def pull(args: argparse.Namespace) -> None:
    done, missing = pull_cells(planned_cells(args.grid), args.git_remote)
    print(f"exported {len(done)} cells to metrics/study/ (commit them)"
          + (f"; not on {args.git_remote} yet: {', '.join(missing)}" if missing else ""))  # fmt: skip


def plan(args: argparse.Namespace) -> None:
    """The grid's cells with their training steps and replies, base's answers once, the context each needs against
    the profile's max_seq_length, and the GPU hours projected from docs/cloud.md's H100 figures."""
    from strawberry.context_check import ContextTooShortError, check_context
    from strawberry.profiles import load_profile
    from strawberry.study.plan import grid_costs
    from strawberry.tokenizer import load_hf_tokenizer

    cells = grid_cells(args.grid)
    params = load_params()
    tokenizer = load_hf_tokenizer(params["tokenizer"])  # the data's (Qwen3's) tokens: what a Qwen3 model reads
    first = cell_params(params, cells[0].overrides)
    questions = reply_tokens = None
    if Path("data/splits/test.jsonl").is_file():
        try:
            text, need = check_context(tokenizer, first, load_profile(first))
        except ContextTooShortError as e:
            sys.exit(f"context: FAILED: {e}")
        print("context: " + text)
        questions, reply_tokens = need.test_questions, need.mean_test_reply
    else:
        print("context: not checked (no data/splits/test.jsonl: `dvc repro analyze` or `dvc pull` first); replies "
              "estimated at 100 tokens, questions from evaluate.questions_per_task")  # fmt: skip
    sizes = check_groups(args.grid, cells)
    if sizes:
        print("groups (test questions of each deciding measure, covered / uncovered pieces): " + "; ".join(
            f"{task} {by['covered']} / {by['uncovered']}" for task, by in sizes.items()))  # fmt: skip
    costs, total = grid_costs(cells, params, tokenizer, questions, reply_tokens)
    print(f"{'cell':<60} {'steps':>6} {'tokens/step':>11} {'val replies':>11} {'test replies':>12} {'hours':>6}")
    for c in costs:
        print(f"{c.name:<60} {c.steps:>6} {c.tokens_per_step:>11} {c.train_replies:>11} {c.test_replies:>12} "
              f"{c.seconds / 3600:>6.2f}")  # fmt: skip
    if missing := sorted({f for c in costs for f in c.uncounted}):
        print(f"not counted: the added pass over {', '.join(missing)} (not built here: `dvc repro` its stages first)")
    print(f"base's answers, once: {total['base_replies']} replies, {total['base_seconds'] / 3600:.2f} h")
    print(f"{len(costs)} cells, {sum(c.steps for c in costs)} training steps, "
          f"{sum(c.train_replies + c.test_replies for c in costs) + total['base_replies']} replies of up to "
          f"{total['reply_tokens']:.0f} tokens on average: about {total['gpu_hours']:.1f} GPU-hours on one H100 "
          f"(projected from docs/cloud.md's measured figures; ≈ ${2 * total['gpu_hours']:.1f}–"
          f"${3 * total['gpu_hours']:.1f} at $2–3 an hour)")  # fmt: skip


def smoke(args: argparse.Namespace) -> None:
    """grids/smoke.yaml's one cell on --model through every link, failing loudly at the first broken one:
    preflight (remote, device, tokenizer, context), `dvc exp run` (train, evaluate), export, `dvc exp push`."""
    from scripts.preflight import main as preflight
    from strawberry.cells import dvc
    from strawberry.study.resolved import pinned

    cell = grid_cells(SMOKE)[0]
    params = load_params()
    overrides = pinned([o for o in cell.overrides if not o.startswith("model=")] + [f"model={args.model}"], params)
    name = f"smoke-{args.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    say = lambda text: print(f"smoke {name}: {text}", flush=True)  # noqa: E731
    say("preflight")
    preflight(["--grid", str(SMOKE), "--model", args.model, *(["--no-remote"] if args.no_push else [])])
    say(f"dvc exp run -n {name} (train, evaluate: a few steps, about 20 questions)")
    dvc("exp", "run", "-n", name, *[a for o in overrides for a in ("-S", o)])
    say(f"exported to {export_run(name)}")
    if args.no_push:
        say("not pushed (--no-push)")
    else:
        dvc("exp", "push", "--run-cache", args.git_remote, name)
        say(f"pushed to {args.git_remote} and the DVC remote")
    say("every link works")


def page(args: argparse.Namespace) -> None:
    """The study's page from the exports of the arms grid and its gate grid, on the grid's profile only; a grid with
    `min_group:` (study v4: the covered/uncovered contrast) gets the piece page."""
    name, profile, gate = study_of(args.grid)
    if grid_spec(args.grid).get("min_group"):
        exports = exports_of(name, profile)
        if not exports:
            sys.exit(f"no exports of grid {name} on profile {profile} in metrics/study/: run "
                     f"`python -m scripts.study run --grid {args.grid}` first")  # fmt: skip
        out = args.out if args.out != DEFAULT_PAGE else Path(f"docs/study-{name}.md")
        write_atomic(out, render_piece_page(exports))
        print(f"wrote {out} ({len(exports)} runs, profile {profile})")
        return
    gate_name = study_of(gate)[0] if gate else name
    calibration = exports_of(gate_name, profile)
    if not calibration:
        sys.exit(f"no exports of grid {gate_name} on profile {profile} in metrics/study/: run "
                 f"`python -m scripts.study run --grid {gate or args.grid}` first")  # fmt: skip
    arms = exports_of(name, profile) if gate else []
    text = render_page(calibration, args.out.parent / args.out.stem / "v3-gate.png", arms)
    write_atomic(args.out, text)
    print(f"wrote {args.out} ({len(calibration)} calibration runs, {len(arms)} arm runs, profile {profile})")


COMMANDS = {
    "run": (
        run_study,
        "run the grid's experiments here, one after another (skips those already exported); --index N runs one",
    ),
    "cells": (list_cells, "list the grid's cells: index, experiment name, -S overrides"),
    "prepare": (prepare_cells, "once before the cells: data, base's answers and replies, pushed with the run cache"),
    "cell": (one_cell, "run one cell (--index or $CELL_INDEX) and push it to the remotes; done cells exit at once"),
    "pull": (pull, "fetch every finished cell from the remotes and export it to metrics/study/"),
    "plan": (plan, "the grid's cells, training steps, replies, context check and projected GPU hours"),
    "smoke": (smoke, "one calibration cell cut short on --model through preflight, train, evaluate, export, push"),
    "page": (page, "the study's page (docs/study.md): the gate, the arms, the pre-registered and seed-level readings"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    grids = ", ".join(str(p) for p in sorted(GRIDS.glob("*.yaml")))
    for name, (_, text) in COMMANDS.items():
        p = sub.add_parser(name, help=text)
        if name == "smoke":
            p.add_argument("--model", required=True, help="the profile to smoke-test (qwen3-4b on a GPU)")
            p.add_argument("--git-remote", default="origin", help="where `dvc exp push` sends the experiment")
            p.add_argument("--no-push", action="store_true", help="stop after the export (no remote test write)")
            continue
        if name == "page":
            p.add_argument("--grid", type=Path, default=GRIDS / "v3-arms.yaml", help="the study's arms grid (its "
                           "`gate:` names the gate's grid) or a gate grid alone")  # fmt: skip
            p.add_argument("--out", type=Path, default=DEFAULT_PAGE, help="default: docs/study.md; "
                           "docs/study-<name>.md for a grid with min_group")  # fmt: skip
            continue
        p.add_argument("--grid", type=Path, help=f"the grid file (required; one of: {grids})")
        if name in ("cell", "pull"):
            p.add_argument("--git-remote", default="origin", help="the git remote that holds the cells' experiments")
        if name == "cell":
            p.add_argument("--index", type=int, help="the cell to run (default: $CELL_INDEX)")
        if name == "run":
            p.add_argument("--index", type=int, help="run only this cell (its index in `cells`; default: all)")
    args = parser.parse_args(argv)
    if getattr(args, "grid", "") is None:
        parser.error(f"{args.command} needs --grid: a study is a grid file for one profile ({grids})")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    COMMANDS[args.command][0](args)


if __name__ == "__main__":
    main()
