"""Batched vs unbatched serving at the same concurrency, in one run: the same locust load against the server with
--max-batch-size 16 and with --max-batch-size 1 (the local profile, the adapter if there is one); then the most
batching can give on this machine: the same kind of questions answered in one process, all cores, as batches of
--users against one at a time.

    .venv/bin/python -m tests.perf.serving_batching [--users 16] [--requests 320] [--model base]

Prints each run's requests/s, latency percentiles and errors, the throughput ratio batched / unbatched, and the
in-process ratio (the ceiling for the server's).
"""

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from scripts.loadtest import run_load, sample_request
from strawberry.serving.launch import serving


def in_process_ratio(adapter: str | None, model: str, batch: int, n: int) -> dict:
    """Questions per second answered as batches of `batch` and one at a time, by one LocalBackend on all cores."""
    from strawberry.params import load_params
    from strawberry.profiles import load_profile
    from strawberry.serving.api import CountAPI, PositionAPI, SpellAPI
    from strawberry.serving.backends import LocalBackend
    from strawberry.serving.questions import question

    backend = LocalBackend(load_profile(load_params()), adapter, os.cpu_count())
    rng = random.Random(0)
    task_of = {api.path: api.task for api in (SpellAPI, PositionAPI, CountAPI)}
    records = []
    for path, body in (sample_request(rng, model) for _ in range(n)):
        records.append(question(task_of[path], body["word"], body.get("position"), body.get("letter")))
    backend.replies(records[:2], [model] * 2)  # warm-up
    rates = {}
    for size in (batch, 1):
        start = time.perf_counter()
        for i in range(0, n, size):
            backend.replies(records[i : i + size], [model] * len(records[i : i + size]))
        rates[size] = n / (time.perf_counter() - start)
    return {"questions": n, f"batch_{batch}_per_s": round(rates[batch], 2), "batch_1_per_s": round(rates[1], 2),
            "ratio": round(rates[batch] / rates[1], 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--time", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--adapter", default="models/adapter")
    parser.add_argument("--model", choices=["base", "tuned"], default="tuned", help="what the requests ask")
    parser.add_argument("--in-process-only", action="store_true", help="only the in-process ceiling (no servers)")
    args = parser.parse_args()
    has_adapter = (Path(args.adapter) / "adapter_config.json").is_file()
    adapter, model = (args.adapter, args.model) if has_adapter else ("none", "base")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        for name, batch in () if args.in_process_only else (("batched", args.batch_size), ("unbatched", 1)):
            server_args = ["--adapter", adapter, "--max-batch-size", str(batch), "--no-chat"]
            with serving(server_args, Path(tmp) / f"{name}.log") as url:
                run_load(url, args.users, args.users, 300, model)  # warm-up: every worker has generated once
                results[name] = run_load(url, args.users, args.requests, args.time, model)
            print(name, f"(--max-batch-size {batch}):", json.dumps(results[name]), flush=True)
    if results:
        ratio = results["batched"]["requests_per_s"] / results["unbatched"]["requests_per_s"]
        print(f"throughput batched / unbatched at {args.users} concurrent clients: {ratio:.2f}x "
              f"({model} model, {args.requests} requests each)", flush=True)  # fmt: skip
    ceiling = in_process_ratio(adapter if has_adapter else None, model, args.users, 4 * args.users)
    print(f"in process ({model}, {os.cpu_count()} threads): batches of {args.users} / one at a time: "
          f"{ceiling['ratio']:.2f}x {json.dumps(ceiling)}")  # fmt: skip


if __name__ == "__main__":
    main()
