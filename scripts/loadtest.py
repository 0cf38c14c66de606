"""Load test of a running API with locust, headless and bounded (users, requests, seconds), localhost only.

    .venv/bin/python -m scripts.serve &                                     # in another shell
    .venv/bin/python -m scripts.loadtest --url http://127.0.0.1:8000 --users 16 --requests 400 --time 300

Prints requests/s, p50/p95/p99 latency and the error rate, and writes them as JSON (--out). Against a server with
API keys, put one in $STRAWBERRY_API_KEY (not on the command line, where shell history keeps it).
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
REPO = Path(__file__).resolve().parents[1]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
WORDS = ["strawberry", "mississippi", "bookkeeper", "aardvark", "rhythm", "kayak", "onomatopoeia", "syzygy",
         "quizzically", "abracadabra", "committee", "balloon", "parallel", "occurrence", "banana"]  # fmt: skip
TASK_WEIGHTS = {"/position": 2, "/count": 2, "/spell": 1}


def sample_request(rng: random.Random, model: str) -> tuple[str, dict]:
    """One request of the load: (endpoint, JSON body) on a real word; position, count and spell as 2:2:1."""
    path = rng.choices(list(TASK_WEIGHTS), weights=list(TASK_WEIGHTS.values()))[0]
    word = rng.choice(WORDS)
    body = {"word": word, "model": model}
    if path == "/position":
        body["position"] = rng.randint(1, len(word))
    elif path == "/count":
        body["letter"] = rng.choice(word)
    return path, body


API_KEY_ENV = "STRAWBERRY_API_KEY"


def run_load(url: str, users: int, requests: int, seconds: int, model: str = "tuned", api_key: str | None = None
             ) -> dict:  # fmt: skip
    """One bounded locust run against `url`; its aggregated figures."""
    if urlparse(url).hostname not in LOCAL_HOSTS:
        raise ValueError(f"--url {url}: the load test only targets localhost (127.0.0.1, localhost, ::1)")
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        env = os.environ | {
            "LOADTEST_MAX_REQUESTS": str(requests),
            "LOADTEST_MODEL": model,
            "LOADTEST_API_KEY": api_key or "",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
               "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", url, "--csv", f"{tmp}/stats",
               "--only-summary", "--loglevel", "WARNING"]  # fmt: skip
        subprocess.run(cmd, env=env, cwd=tmp, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(f"{tmp}/stats_stats.csv") as f:
            total = next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")
    n, failures = int(total["Request Count"]), int(total["Failure Count"])
    if n == 0:
        raise RuntimeError(f"no request to {url} finished within {seconds} s ({users} users)")
    return {"users": users, "requests": n, "failures": failures, "error_rate": failures / n,
            "requests_per_s": round(float(total["Requests/s"]), 2),
            "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"])}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=16, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=400, help="stop after this many requests")
    parser.add_argument("--time", type=int, default=300, help="stop after this many seconds")
    parser.add_argument("--model", choices=["base", "tuned"], default="tuned")
    parser.add_argument("--out", type=Path, default=Path("loadtest.json"))
    args = parser.parse_args(argv)
    figures = run_load(args.url, args.users, args.requests, args.time, args.model, os.environ.get(API_KEY_ENV))
    args.out.write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
