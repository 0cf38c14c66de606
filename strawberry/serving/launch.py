"""Start `python -m scripts.serve` as a child process on a free localhost port and wait until /health answers:
the serving tests, the load test and the batching benchmark all start the server this way."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(port: int, args: list[str]) -> list[str]:
    """The command that starts the server: the deployment files run the same (tests/test_deploy.py checks)."""
    return [sys.executable, "-m", "scripts.serve", "--port", str(port), *args]


@contextmanager
def serving(args: list[str], log: Path, startup_timeout: float = 180) -> Iterator[str]:
    """The server's base URL while the `with` block runs; its output goes to `log`. It is stopped afterwards."""
    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PROMETHEUS_MULTIPROC_DIR": str(log.with_suffix(".metrics"))}
    with open(log, "w") as out:
        proc = subprocess.Popen(serve_command(port, args), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}); its log {log}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server was not healthy in {startup_timeout:.0f} s; log {log}")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Stop the server and its worker processes (LitServe spawns one per endpoint): its whole process group,
    politely first, then whatever outlived it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.5)  # let the workers see the signal too
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
