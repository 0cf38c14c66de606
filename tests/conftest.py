import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from strawberry.tokenizer import QWEN3, load_fast_tokenizer

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


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
