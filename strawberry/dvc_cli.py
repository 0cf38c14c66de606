"""The dvc command line, run from Python: with this interpreter's bin folder first on PATH, so that
`.venv/bin/python -m scripts.study run` finds the virtual environment's `dvc`, and dvc's stages (`python -m
stages...`) its `python`, without an activated environment."""

import os
import subprocess
import sys
from pathlib import Path


def dvc_run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """`dvc *args` (subprocess.run's keywords: check, capture_output, text ...)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(["dvc", *args], env={**os.environ, **kwargs.pop("env", {}), "PATH": path}, **kwargs)
