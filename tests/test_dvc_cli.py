"""dvc run from Python by the interpreter's own environment: `.venv/bin/python -m scripts.study run` works for a
user who did not activate the virtual environment (PATH without it)."""

import os
import subprocess
import sys

from tests.conftest import ROOT

BARE_PATH = "/usr/bin:/bin"  # no virtual environment on it


def test_dvc_and_its_stages_python_come_from_the_interpreters_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"} | {"PATH": BARE_PATH, "PYTHONPATH": str(ROOT)}
    for cmd in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        subprocess.run(cmd, cwd=tmp_path, env=env, check=True)
    # a stage whose command only the environment's python can run (dvc is installed there, not in a system python)
    # (it writes the allocator setting it was started with: dvc_run puts glibc's large blocks on huge pages)
    (tmp_path / "dvc.yaml").write_text('stages:\n  s:\n    cmd: python -c "import dvc, os; open(\'out.txt\', \'w\')'
                                       '.write(os.environ[\'GLIBC_TUNABLES\'])"\n    outs: [out.txt]\n')  # fmt: skip
    code = "from strawberry.dvc_cli import dvc_run; dvc_run('repro', check=True)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "out.txt").read_text() == "glibc.malloc.hugetlb=1"
    # without it, the same PATH finds no dvc (or another one): what `study run` met before
    bare = subprocess.run(["sh", "-c", "command -v dvc"], env=env, capture_output=True, text=True)
    assert bare.stdout.strip() != f"{os.path.dirname(sys.executable)}/dvc"
