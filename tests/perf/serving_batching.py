"""Batched vs unbatched serving at the same concurrency, in one run: the same locust load against the server with
--max-batch-size 16 and with --max-batch-size 1 (the local profile, the adapter if there is one).

    .venv/bin/python -m tests.perf.serving_batching [--users 16] [--requests 320]

Prints each run's requests/s, latency percentiles and errors, and the throughput ratio batched / unbatched.
"""

import argparse
import json
import tempfile
from pathlib import Path

from scripts.loadtest import run_load
from strawberry.serving.launch import serving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--time", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--adapter", default="models/adapter")
    parser.add_argument("--model", choices=["base", "tuned"], default="tuned", help="what the requests ask")
    args = parser.parse_args()
    has_adapter = (Path(args.adapter) / "adapter_config.json").is_file()
    adapter, model = (args.adapter, args.model) if has_adapter else ("none", "base")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        for name, batch in (("batched", args.batch_size), ("unbatched", 1)):
            server_args = ["--adapter", adapter, "--max-batch-size", str(batch), "--no-chat"]
            with serving(server_args, Path(tmp) / f"{name}.log") as url:
                run_load(url, args.users, args.users, 300, model)  # warm-up: every worker has generated once
                results[name] = run_load(url, args.users, args.requests, args.time, model)
            print(name, f"(--max-batch-size {batch}):", json.dumps(results[name]), flush=True)
    ratio = results["batched"]["requests_per_s"] / results["unbatched"]["requests_per_s"]
    print(f"throughput batched / unbatched at {args.users} concurrent clients: {ratio:.2f}x "
          f"({model} model, {args.requests} requests each)")  # fmt: skip


if __name__ == "__main__":
    main()
