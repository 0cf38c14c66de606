"""One cell = one experiment, for an engine that fans a study or a grid out over many GPUs (a Kubernetes Indexed
Job, SkyPilot managed jobs, a shell loop over the GPUs of one machine).

A cell runs in its own git clone: it pulls the data from the DVC remote, runs `dvc exp run -n NAME -S ...` in the
clone's workspace, and pushes the experiment (git refs to the git remote; outputs and run cache to the DVC remote).
DVC stays the record: `study pull` brings every finished cell back as an ordinary experiment. A cell whose
experiment is already on the git remote exits at once, so an engine may start a cell again at no cost; a cell
killed mid-run and started again resumes training from the last complete checkpoint when the checkpoint folder
(`STRAWBERRY_CHECKPOINTS`) is on a volume that outlived it.

DVC's own auto-push (`DVC_EXP_AUTO_PUSH`) is not used: it turns a failed push into a warning and exits 0, which
would mark a cell done whose results are lost. Here a failed push fails the cell, and the engine retries it.
"""

import itertools
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from strawberry.dvc_cli import dvc_run
from strawberry.params import load_params
from strawberry.preflight import RemoteRefusedError, check_remote
from strawberry.study.resolved import check_grid
from strawberry.study.runs import exported

GIT_REMOTE = "origin"
REMOTE_URL_ENV = "DVC_REMOTE_URL"  # the job's bucket for the default DVC remote (AWS_ENDPOINT_URL: its endpoint)
INDEX_ENV = "CELL_INDEX"  # set by the engine: the Job from the pod's completion index, SkyPilot by --env
DATA_TARGET = "analyze"  # the last data stage: pulling it with its dependencies gets every data output


@dataclass(frozen=True)
class Cell:
    name: str
    overrides: list[str]  # dvc exp run -S values

    @property
    def set_args(self) -> list[str]:
        """The overrides as `dvc exp run` arguments: -S a=1 -S b=2."""
        return [arg for o in self.overrides for arg in ("-S", o)]


def grid_spec(path: Path, _seen: tuple[Path, ...] = ()) -> dict:
    """A grid file with its `extends:` resolved: the parent's `name:` and `set:` are the start, the file's own keys
    win (its `set:` keys override the parent's one by one); `grid:` is never inherited. A path in `extends:` is
    relative to the file that names it."""
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise SystemExit(f"{path}: cannot read the grid file: {e}") from None
    if not isinstance(spec, dict):
        raise SystemExit(f"{path}: a grid file is a mapping with `name:`, `grid:` and optionally `set:`, `extends:`")
    if not isinstance(spec.get("set") or {}, dict):
        raise SystemExit(f"{path}: `set:` must be a mapping of params.yaml keys to values")
    if "extends" not in spec:
        return spec
    parent_path = path.parent / str(spec["extends"])
    if parent_path.resolve() in _seen:
        raise SystemExit(f"{path}: `extends: {spec['extends']}` is a loop")
    parent = grid_spec(parent_path, (*_seen, path.resolve()))
    merged = {"name": parent.get("name")} | {k: v for k, v in spec.items() if k != "extends"}
    merged["set"] = (parent.get("set") or {}) | (spec.get("set") or {})
    return merged


def grid_cells(path: Path, params: dict | None = None) -> list[Cell]:
    """Every combination of a grid file, in the file's order:

        name: rank                      # cells are named grid-rank-qwen3-4b-r4-seed1, ...
        extends: base.yaml              # optional: start from that grid's name and `set:` (grid_spec)
        set: {model: qwen3-4b}          # the same in every cell; the profile is required
        grid:                           # every combination of these values
          lora.r: [4, 8, 16, 32]
          train.seed: [1, 2, 3]

    A cell's name carries the grid's name and the profile, so two profiles' runs of one grid never collide. The
    grid is checked against `params` (default: params.yaml): it names a profile, and no profile size silently
    overrides one of its keys (strawberry.study.resolved.check_grid)."""
    spec = grid_spec(path)
    if not isinstance(spec.get("grid"), dict) or not spec["grid"]:
        raise SystemExit(f"{path}: a grid file needs `grid:`, a mapping of params.yaml keys to lists of values")
    if not re.fullmatch(r"[A-Za-z0-9_]+", str(spec.get("name", ""))):
        raise SystemExit(f"{path}: `name:` must be letters, digits or _ (it names every cell's experiment)")
    for key, values in spec["grid"].items():
        if not isinstance(values, list) or not values:
            raise SystemExit(f"{path}: grid key {key!r} needs a non-empty list of values")
    fixed = [f"{k}={v}" for k, v in (spec.get("set") or {}).items() if k not in spec["grid"]]
    profile = (spec.get("set") or {}).get("model")  # or each cell's own, when the grid varies it
    cells = []
    for combo in itertools.product(*spec["grid"].values()):
        pairs = list(zip(spec["grid"], combo))
        label = "-".join(f"{k.rsplit('.', 1)[-1]}{v}" for k, v in pairs if k != "model")
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"grid-{spec['name']}-{dict(pairs).get('model', profile)}-{label}")
        cells.append(Cell(name, fixed + [f"{k}={v}" for k, v in pairs]))
    check_grid(path, load_params() if params is None else params, [c.overrides for c in cells])
    return cells


def cell_index(index: int | None, count: int) -> int:
    """--index, else $CELL_INDEX; refused outside 0..count-1."""
    if index is None:
        if not os.environ.get(INDEX_ENV, "").strip():
            raise SystemExit(f"no cell index: pass --index N or set {INDEX_ENV} (0 .. {count - 1})")
        try:
            index = int(os.environ[INDEX_ENV])
        except ValueError:
            raise SystemExit(f"{INDEX_ENV}={os.environ[INDEX_ENV]!r} is not a whole number") from None
    if not 0 <= index < count:
        raise SystemExit(f"cell index {index} is out of range: this plan has {count} cells (0 .. {count - 1})")
    return index


def dvc(*args: str, capture: bool = False) -> subprocess.CompletedProcess:
    """A dvc command; on failure the cell stops with the command and its output (exit 1: the engine retries)."""
    proc = dvc_run(*args, capture_output=capture, text=True)
    if proc.returncode != 0:
        detail = f"\n{proc.stdout}{proc.stderr}" if capture else ""
        raise SystemExit(f"`dvc {' '.join(args)}` failed ({proc.returncode}){detail}")
    return proc


def experiment_names(git_remote: str | None = None) -> set[str]:
    """Experiments on the git remote (or in this clone), on any baseline commit."""
    listed = dvc("exp", "list", *([git_remote] if git_remote else []), "-A", "--name-only", capture=True).stdout
    return {line.strip() for line in listed.splitlines() if line.strip()}


def use_remote(say) -> None:
    """Point the default DVC remote at $DVC_REMOTE_URL (in .dvc/config.local: nothing to commit) and check that it
    takes a test write before anything is pulled or pushed."""
    if url := os.environ.get(REMOTE_URL_ENV, "").strip():
        name = dvc("remote", "default", capture=True).stdout.strip()
        say(f"DVC remote {name} -> {url} (${REMOTE_URL_ENV}, in .dvc/config.local: nothing to commit)")
        dvc("remote", "modify", "--local", name, "url", url)
    try:
        say(f"DVC remote {check_remote()} takes a test write")
    except RemoteRefusedError as e:
        raise SystemExit(str(e)) from None


SHARED_STAGES = ("evaluate_base", "replay")  # what every cell asking the same questions computes alike
SHARED_KEYS = ("model", "evaluate.", "replay.", "profiles.", "tokenizer")  # the params those stages read


def prepare(cells: list[Cell]) -> list[str]:
    """Once, before the cells fan out: the data stages, and base's answers and replies (SHARED_STAGES) for each
    distinct setting of the grid's cells, all pushed to the DVC remote with the run cache, so that no cell computes
    them (cells started together would each compute them otherwise). Returns the experiments it ran."""
    say = lambda text: print(f"prepare: {text}", flush=True)  # noqa: E731
    use_remote(say)
    say(f"dvc repro {DATA_TARGET} && dvc push (the data every cell pulls)")
    dvc("repro", DATA_TARGET)
    dvc("push")
    shared = dict.fromkeys(tuple(o for o in c.overrides if o.startswith(SHARED_KEYS)) for c in cells)
    ran = []
    for i, overrides in enumerate(shared):
        name = f"prepare-{cells[0].name.removeprefix('grid-')}-{i}"
        # in the workspace, as a cell runs: a --temp run keeps no run cache here to push
        say(f"dvc exp run -n {name} {' '.join(SHARED_STAGES)} (base's answers, its replies)")
        dvc("exp", "run", "-n", name, *[a for o in overrides for a in ("-S", o)], *SHARED_STAGES)
        ran.append(name)
    say("dvc push --run-cache (the cells take base's answers from the run cache)")
    dvc("push", "--run-cache")
    return ran


def run_cell(cell: Cell, git_remote: str = GIT_REMOTE) -> str:
    """Run one cell to the end; returns what happened ("on the remote already", "pushed")."""
    say = lambda text: print(f"cell {cell.name}: {text}", flush=True)  # noqa: E731
    if cell.name in experiment_names(git_remote):
        say(f"already on {git_remote}: nothing to do")
        return "on the remote already"
    use_remote(say)
    say(f"dvc pull --with-deps {DATA_TARGET} --run-cache (the data; the base model's answers once a cell pushed them)")
    pulled = dvc_run("pull", "--with-deps", DATA_TARGET, "--run-cache")
    if pulled.returncode != 0:
        raise SystemExit(f"cell {cell.name}: `dvc pull` failed: push the data stages' outputs first (`dvc repro "
                         f"{DATA_TARGET} && dvc push` on the commit the cells run) and check the DVC remote's "
                         "credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL)")  # fmt: skip
    if cell.name in experiment_names():
        say("finished in this clone before (its push failed): pushing it")
    else:
        say(f"dvc exp run --pull -n {cell.name} {' '.join(cell.set_args)}")
        # --pull: a stage found in the run cache (the base model's answers) gets its outputs from the DVC remote
        dvc("exp", "run", "--pull", "-n", cell.name, *cell.set_args)
    say(f"dvc exp push --run-cache {git_remote} {cell.name}")
    dvc("exp", "push", "--run-cache", git_remote, cell.name)
    say(f"pushed to {git_remote} and the DVC remote")
    return "pushed"


def pull_cells(cells: list[Cell], git_remote: str = GIT_REMOTE) -> tuple[list[str], list[str]]:
    """Fetch every finished cell's experiment from the remotes and export it to metrics/study/ (the committed
    record); cells already exported are left alone. Returns (exported now, not on the remote yet)."""
    from strawberry.study.runs import export_run

    on_remote = experiment_names(git_remote)
    missing = [c.name for c in cells if c.name not in on_remote and not exported(c.name).is_file()]
    todo = [c.name for c in cells if c.name in on_remote and not exported(c.name).is_file()]
    if todo:
        print(f"dvc exp pull {git_remote} {' '.join(todo)}", flush=True)
        dvc("exp", "pull", git_remote, *todo)
    for name in todo:
        print(f"{name}: exported to {export_run(name)}", flush=True)
    return todo, missing


def cell_command(grid: str) -> list[str]:
    """The command one cell runs: the Kubernetes Job and the SkyPilot task run this (tests/test_cells.py checks),
    with the index from $CELL_INDEX."""
    return [sys.executable, "-m", "scripts.study", "cell", "--grid", grid]
