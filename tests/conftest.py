import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from strawberry.tokenizer import QWEN3, load_fast_tokenizer

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Modules that take minutes each (real DVC experiments on the tiny model): collected first, so that xdist's workers
# (one file each, in collection order) start them together instead of ending on one of them alone.
LONG_FIRST = ("test_pipeline_model.py", "test_cells.py", "test_study_runs.py", "test_experiments.py")


def pytest_collection_modifyitems(items: list) -> None:
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its own order


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory) -> Path:
    """A folder every xdist worker of this test session shares (each worker's own base folder otherwise)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def qwen3_tokenizer():
    return load_fast_tokenizer(QWEN3)


def run(cmd: list[str], cwd: Path, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a real command (dvc, git, python); on failure show its output in the assertion. `env`: variables to
    set on top of this process's."""
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1", **kwargs.pop("env", {})}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def copy_project(dest: Path) -> Path:
    """The committed project (git ls-files) plus the working tree's edits, as a new git repo at dest. The real
    study's record (metrics/study/) stays out: a copy runs studies of its own, and `study run` skips exported runs."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()  # fmt: skip
    for name in files:
        if (ROOT / name).is_file() and not name.startswith("metrics/study/"):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    run(["git", "init", "-q"], dest)
    run(["git", "config", "user.email", "tests@example.com"], dest)
    run(["git", "config", "user.name", "tests"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-qm", "copy of the project"], dest)
    return dest


def set_params(repo: Path, edits: dict[str, object]) -> None:
    """Edit params.yaml keys given as dotted paths."""
    import yaml

    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for dotted, value in edits.items():
        node = params
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


DATA_SECTIONS = ("tokenizer", "extract_tokens", "generate", "validate", "split", "analyze")  # what the data stages read


def data_project(dest: Path, edits: dict[str, object], base: Path, target: str = "analyze") -> Path:
    """copy_project + set_params(edits) with the pipeline already run up to `target` (`dvc repro <target>`; "all":
    every stage), committed. It runs once per test session for the same params, whichever module or xdist worker
    asks first (under a file lock in `base`, shared by the workers), and each caller gets its own copy: five modules
    used to run extract_tokens over the whole vocabulary each, two the tiny model's stages. Up to `analyze` only the
    data stages' params matter."""
    if target == "analyze":
        edits_built = {k: v for k, v in edits.items() if k.split(".")[0] in DATA_SECTIONS}
    else:
        edits_built = edits
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))  # one test session, all its workers
    key = hashlib.sha256(json.dumps([run_id, target, edits_built], sort_keys=True).encode()).hexdigest()[:12]
    built = base / f"project-{target}-{key}"
    with FileLock(str(built) + ".lock"):
        if not (built / ".built").is_file():
            shutil.rmtree(built, ignore_errors=True)
            built.mkdir(parents=True)
            if target == "analyze":
                copy_project(built)
                set_params(built, edits_built)
                run(["git", "commit", "-qam", "test params"], built, check=False)
            else:  # on top of the data stages' build
                data_project(built, edits_built, base)
            run(["dvc", "repro", *([] if target == "all" else [target])], built, timeout=900)
            run(["git", "add", "-A"], built)
            run(["git", "commit", "-qm", f"dvc repro {target}"], built)
            (built / ".built").write_text("")
    shutil.copytree(built, dest, symlinks=True, dirs_exist_ok=True)
    (dest / ".built").unlink()
    set_params(dest, edits)
    run(["git", "commit", "-qam", "test params"], dest, check=False)  # nothing to commit when all edits were built
    return dest
