"""Serve the base model and the tuned adapter over HTTP (LitServe), non-thinking only.

    .venv/bin/python -m scripts.serve                        # params.yaml's model + models/adapter, port 8000
    .venv/bin/python -m scripts.serve --adapter none         # base model only
    .venv/bin/python -m scripts.serve --remote http://vllm:8000/v1 --remote-tuned-model strawberry
    .venv/bin/python -m scripts.serve --api-keys-file keys.txt --metrics-token-file scrape-token.txt

Without API keys every endpoint is open (local use; a warning says so at start-up). Endpoints, authentication,
rate limits, errors and measured performance: docs/api.md. Metrics for Prometheus at /metrics.
"""

import argparse
import os
import sys

from strawberry.serving.access import Access, load_api_keys, load_metrics_token
from strawberry.serving.metrics import use_metrics_dir

REMOTE_API_KEY_ENV = "STRAWBERRY_REMOTE_API_KEY"  # the key sent to --remote (vLLM's --api-key)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--profile", help="a profile of params.yaml (default: its `model`)")
    parser.add_argument("--adapter", default="models/adapter", help="LoRA adapter directory, or 'none'")
    parser.add_argument("--remote", help="OpenAI-compatible server (…/v1) to ask instead of loading the model here")
    parser.add_argument("--remote-base-model", default="strawberry-base", help="the remote server's base model name")
    parser.add_argument("--remote-tuned-model", default="strawberry-tuned", help="its name for the LoRA adapter")
    parser.add_argument("--max-batch-size", type=int, default=16, help="requests per model batch (1: no batching)")
    parser.add_argument("--batch-timeout", type=float, default=0.05, help="seconds a batch waits to fill")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a queued request gets 504")
    parser.add_argument("--no-chat", action="store_true", help="do not serve /v1/chat/completions")
    parser.add_argument("--api-keys-file", default=os.environ.get("STRAWBERRY_API_KEYS_FILE"),
                        help="API keys, one per line (default $STRAWBERRY_API_KEYS_FILE; keys may also come "
                        "comma-separated in $STRAWBERRY_API_KEYS)")  # fmt: skip
    parser.add_argument("--metrics-token-file", default=os.environ.get("STRAWBERRY_METRICS_TOKEN_FILE"),
                        help="/metrics's scrape token (default $STRAWBERRY_METRICS_TOKEN_FILE, or the token in "
                        "$STRAWBERRY_METRICS_TOKEN; without one, /metrics takes the API keys)")  # fmt: skip
    parser.add_argument("--rate-limit", default=Access.rate_limit,
                        help="requests per API key, e.g. '10/second;300/minute' ('none': unlimited)")  # fmt: skip
    parser.add_argument("--max-body-bytes", type=int, default=Access.max_body_bytes, help="larger bodies get 413")
    parser.add_argument(
        "--threads-per-worker",
        type=int,
        help="torch CPU threads per endpoint process (default: the cores divided among the endpoints)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        access = Access(api_keys=load_api_keys(args.api_keys_file), metrics_token=load_metrics_token(
            args.metrics_token_file), rate_limit=None if args.rate_limit.lower() == "none" else args.rate_limit,
            max_body_bytes=args.max_body_bytes)  # fmt: skip
    except ValueError as e:
        raise SystemExit(f"scripts.serve: {e}") from None
    print(("WARNING: " if not access.api_keys else "") + access.summary(), file=sys.stderr, flush=True)
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars per batch in a server's log
    use_metrics_dir()  # before anything imports prometheus_client

    from strawberry.params import load_params
    from strawberry.profiles import load_profile
    from strawberry.serving.api import ServeConfig, build_server
    from strawberry.serving.lifecycle import stop_on_signals

    params = load_params()
    profile = load_profile({**params, "model": args.profile or params["model"]})
    adapter = None if args.adapter.lower() == "none" or args.remote else args.adapter
    if adapter and not os.path.isfile(os.path.join(adapter, "adapter_config.json")):
        raise SystemExit(f"--adapter {adapter}: no adapter_config.json there (run `dvc repro train`, or "
                         "`dvc exp apply <exp> && dvc pull`, or serve the base model: --adapter none)")  # fmt: skip
    config = ServeConfig(profile=profile, adapter=adapter, remote_url=args.remote,
                         remote_base_model=args.remote_base_model, remote_tuned_model=args.remote_tuned_model,
                         max_batch_size=args.max_batch_size, batch_timeout=args.batch_timeout, timeout=args.timeout,
                         chat=not args.no_chat, threads_per_worker=args.threads_per_worker, access=access,
                         remote_api_key=os.environ.get(REMOTE_API_KEY_ENV) or None)  # fmt: skip
    # one HTTP process (LitServe's default is one per model worker), so a key's requests are counted in one place
    server = build_server(config)
    stop_on_signals(server)  # SIGTERM/SIGINT: drain, end every child, free the port, exit 0
    server.run(port=args.port, generate_client_file=False, num_api_servers=1)


if __name__ == "__main__":
    main()
