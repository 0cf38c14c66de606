"""The dvc command line, run from Python: with this interpreter's bin folder first on PATH, so that
`.venv/bin/python -m scripts.study run` finds the virtual environment's `dvc`, and dvc's stages (`python -m
stages...`) its `python`, without an activated environment; and with glibc's large blocks on huge pages."""

import os
import subprocess
import sys
from pathlib import Path

# glibc returns each freed activation block to the kernel and faults the next one in 4 KiB at a time; huge pages for
# those blocks made CPU training steps 1.12x faster with bit-identical losses (tests/perf/allocator.py). Read at a
# process's start, so set for the stages dvc starts; a caller's own GLIBC_TUNABLES wins. scripts/run.sh sets it too.
HUGE_PAGES = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}


def dvc_run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """`dvc *args` (subprocess.run's keywords: check, capture_output, text ...)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**HUGE_PAGES, **os.environ, **kwargs.pop("env", {}), "PATH": path}
    return subprocess.run(["dvc", *args], env=env, **kwargs)
