"""The converted-model cache under concurrent processes: one builds, the others wait and load what it wrote."""

import os
import subprocess
import sys

from filelock import FileLock

from strawberry.params import load_params
from strawberry.profiles import cached_model_dir, load_profile
from tests.conftest import ROOT

BUILD = """
import sys
from strawberry.params import load_params
from strawberry.profiles import base_model_path, load_profile
print("PATH", base_model_path(load_profile({**load_params(), "model": "tiny-qwen3"})), flush=True)
"""


def test_two_processes_building_the_same_model_at_once(tmp_path):
    """The test holds the model's lock while both processes start, so both must wait (whichever is faster to
    import); then one builds and the other loads what it wrote."""
    env = {**os.environ, "STRAWBERRY_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    target = cached_model_dir(load_profile({**load_params(ROOT / "params.yaml"), "model": "tiny-qwen3"}), tmp_path)
    target.parent.mkdir(parents=True)
    with FileLock(f"{target}.lock"):
        procs = [subprocess.Popen([sys.executable, "-c", BUILD], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]  # fmt: skip
        waiting = [wait_for_line(p, "another process is building") for p in procs]  # both block on the lock
    outputs = [head + p.communicate(timeout=300)[0] for head, p in zip(waiting, procs)]
    assert [p.returncode for p in procs] == [0, 0], outputs
    paths = {line.split(" ", 1)[1] for out in outputs for line in out.splitlines() if line.startswith("PATH ")}
    assert paths == {str(target)}, outputs
    built = sum(out.count("Built tiny-qwen3") for out in outputs)
    assert built == 1, f"the model was built {built} times:\n{outputs}"
    models = tmp_path / "models"
    assert sorted(p.name for p in models.iterdir() if not p.name.endswith(".lock")) == [target.name]
    assert (target / "config.json").is_file()


def wait_for_line(proc: subprocess.Popen, text: str) -> str:
    """The process's output up to and including the first line holding `text` (it fails the test if it ends first)."""
    seen = ""
    while text not in seen:
        line = proc.stdout.readline()
        assert line, f"the process ended before printing {text!r}:\n{seen}"
        seen += line
    return seen


def test_a_conversion_killed_midway_is_redone(tmp_path):
    """A .tmp folder left by a killed process is never taken for the model."""
    env = {**os.environ, "STRAWBERRY_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    first = subprocess.run([sys.executable, "-c", BUILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    path = first.stdout.split("PATH ", 1)[1].strip()
    os.rename(path, path + ".tmp")  # as if the process died before its final rename
    again = subprocess.run([sys.executable, "-c", BUILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "Built tiny-qwen3" in again.stdout and os.path.isfile(os.path.join(path, "config.json"))
    assert not os.path.exists(path + ".tmp")
