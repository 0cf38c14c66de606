"""Prometheus metrics of the server. LitServe answers HTTP and runs the model in separate processes, so the
metrics live in prometheus_client's multiprocess mode: every process writes to PROMETHEUS_MULTIPROC_DIR, and
/metrics adds them up. `use_metrics_dir` must run before prometheus_client is imported."""

import os
import tempfile
import time
from pathlib import Path

ENDPOINTS = ("/spell", "/position", "/count", "/v1/chat/completions", "/health", "/metrics")


def use_metrics_dir(path: str | None = None) -> str:
    """Point prometheus_client at a fresh directory (or an existing one, e.g. a Kubernetes emptyDir)."""
    path = path or os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="strawberry-metrics-")
    os.makedirs(path, exist_ok=True)
    for stale in Path(path).glob("*.db"):  # values left by an earlier server would be added to ours
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
METRICS = {  # key -> (kind, name, help, labels, buckets)
    "requests": ("counter", "strawberry_requests", "HTTP requests by endpoint and status code",
                 ["endpoint", "status"], None),
    "latency": ("histogram", "strawberry_request_latency_seconds", "Request latency, arrival to response",
                ["endpoint"], LATENCY_BUCKETS),
    "batch": ("histogram", "strawberry_batch_size", "Requests per model batch", ["endpoint"], BATCH_BUCKETS),
    "tokens": ("counter", "strawberry_generated_tokens", "Tokens generated", ["endpoint", "model"], None),
    "unparseable": ("counter", "strawberry_unparseable_replies", "Replies the evaluation's parser found no answer in",
                    ["endpoint", "model"], None),
}  # fmt: skip


def _metrics() -> dict:
    from prometheus_client import Counter, Histogram

    out = {}
    for key, (kind, name, doc, labels, buckets) in METRICS.items():
        out[key] = Counter(name, doc, labels) if kind == "counter" else Histogram(name, doc, labels, buckets=buckets)
    return out


_CACHE: dict = {}


def metric(name: str):
    """One of the server's metrics, created on first use in each process."""
    if not _CACHE:
        _CACHE.update(_metrics())
    return _CACHE[name]


def endpoint_label(path: str) -> str:
    return path if path in ENDPOINTS else "other"  # unknown paths must not explode the label set


class MetricsMiddleware:
    """ASGI middleware: counts every response by endpoint and status and times it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        endpoint, start, status = endpoint_label(scope["path"]), time.perf_counter(), [500]

        async def send_and_record(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            metric("requests").labels(endpoint, str(status[0])).inc()
            if endpoint != "/metrics":
                metric("latency").labels(endpoint).observe(time.perf_counter() - start)


def metrics_app():
    """The /metrics ASGI app: every process's values, summed."""
    from prometheus_client import CollectorRegistry, make_asgi_app, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return make_asgi_app(registry=registry)


def exported_names() -> set[str]:
    """The series names /metrics exports (counters end in _total, histograms in _bucket/_sum/_count)."""
    names = set()
    for kind, name, *_ in METRICS.values():
        names |= {f"{name}_total"} if kind == "counter" else {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names
