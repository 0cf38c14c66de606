"""The real server's life as an operator sees it (tiny Qwen3, base model): SIGTERM or SIGINT to the main process
only, as `kill <pid>` or a supervisor sends it, lets the request in flight finish, ends every descendant and frees
the port, exit 0; a killed inference worker is replaced, and /health never says 200 while requests fail."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from strawberry.serving.launch import ROOT, _healthy, free_port, serve_command, stop

ARGS = ["--profile", "tiny-qwen3", "--adapter", "none", "--no-chat", "--threads-per-worker", "1"]
BODY = {"word": "strawberry", "letter": "r"}


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str, int]:
    port = free_port()
    log = tmp_path / "server.log"
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    proc = subprocess.Popen(serve_command(port, [*ARGS, *extra]), cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while not _healthy(url):
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.3)
    return proc, url, port


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def port_binds(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGTERM])  # SIGINT takes the same handler (stop_on_signals)
def test_a_signal_to_the_main_process_drains_and_stops_everything(tmp_path, signum):
    # a batch waits 3 s to fill: the request below is still in flight when the signal comes
    proc, url, port = start(tmp_path, "--batch-timeout", "3", "--max-batch-size", "8")
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
        assert len(descendants) >= 4  # the HTTP server, the manager, three inference workers (and more)
        answer: dict = {}
        asking = threading.Thread(target=lambda: answer.update(r=requests.post(f"{url}/count", json=BODY, timeout=30)))
        asking.start()
        time.sleep(1)
        os.kill(proc.pid, signum)  # the main process only, not its group
        asking.join(timeout=30)
        assert answer["r"].status_code == 200 and "answer" in answer["r"].json(), answer["r"].text
        assert proc.wait(timeout=30) == 0, (tmp_path / "server.log").read_text()[-3000:]
        deadline = time.monotonic() + 10
        while alive(descendants) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(descendants), [(p.pid, p.cmdline()) for p in alive(descendants)]
        assert port_binds(port)
        assert "draining requests in flight" in (tmp_path / "server.log").read_text()
    finally:
        stop(proc)


def test_a_killed_worker_is_replaced_and_health_tells_the_truth(tmp_path):
    proc, url, _ = start(tmp_path)
    try:
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                   if "multiprocessing.spawn" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(
                       p.cmdline())]  # fmt: skip
        assert len(workers) == 3, [p.cmdline() for p in workers]  # spell, position, count
        for worker in workers:  # whichever serves /count, as the OOM killer would
            worker.kill()
        seen = []  # (health status, count request status) while it recovers
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                health = requests.get(f"{url}/health", timeout=5).status_code
                count = requests.post(f"{url}/count", json=BODY, timeout=60).status_code
            except requests.ConnectionError:
                health = count = None
            seen.append((health, count))
            if health == count == 200:
                break
            time.sleep(0.5)
        assert seen[-1] == (200, 200), seen  # replaced: it answers again
        assert proc.poll() is None  # the same server, still up
        # /health said 200 only when the request beside it was answered
        assert all(count == 200 for health, count in seen if health == 200), seen
        assert "Restarting it" in (tmp_path / "server.log").read_text()
    finally:
        stop(proc)
