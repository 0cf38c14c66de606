"""Prometheus round trip: a real Prometheus server (Debian's `prometheus`, installed by .ci/run) scrapes the real
API on localhost with deploy/prometheus/prometheus.yml's job (its scrape token included: the API runs with keys),
and the counts read back through its HTTP API are the requests that were sent."""

import os
import shutil
import subprocess
import time

import pytest
import requests
import yaml

from strawberry.serving.launch import free_port, serving
from tests.conftest import ROOT

PROFILE = "tiny-qwen3"  # the metrics need a server, not a model that answers well

PROMETHEUS = shutil.which("prometheus")
API_KEY, SCRAPE_TOKEN = "monitoring-key-" + "k" * 20, "scrape-token-" + "t" * 20
KEY = {"Authorization": f"Bearer {API_KEY}"}


def prometheus_query(url: str, query: str) -> float | None:
    r = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=10)
    r.raise_for_status()
    result = r.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def test_prometheus_scrapes_the_api(tmp_path):
    if PROMETHEUS is None:
        message = "needs Debian's prometheus (apt-get install prometheus; scripts/setup-tests.sh does as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no prometheus binary: {message}")  # CI must run the round trip, not skip it
        pytest.skip(message)
    (tmp_path / "api-keys").write_text(API_KEY + "\n")
    (tmp_path / "metrics-token").write_text(SCRAPE_TOKEN + "\n")
    args = ["--profile", PROFILE, "--adapter", "none", "--no-chat", "--api-keys-file", str(tmp_path / "api-keys"),
            "--metrics-token-file", str(tmp_path / "metrics-token")]  # fmt: skip
    with serving(args, tmp_path / "api.log") as api:
        job = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())["scrape_configs"][0]
        job["static_configs"] = [{"targets": [api.removeprefix("http://")]}]  # the compose job, on localhost
        assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"  # compose's secret there
        job["authorization"]["credentials_file"] = str(tmp_path / "metrics-token")
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": [job]}))
        port = free_port()
        command = [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                   f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
        with open(tmp_path / "prometheus.log", "w") as log:
            prom = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for word in ("kayak", "rhythm", "strawberry"):
                assert requests.post(api + "/count", json={"word": word, "letter": "a", "model": "base"},
                                     headers=KEY, timeout=120).status_code == 200  # fmt: skip
            bad = {"word": "k4yak", "letter": "a"}
            assert requests.post(api + "/count", json=bad, headers=KEY, timeout=30).status_code == 422
            ok = 'sum(strawberry_requests_total{job="strawberry-api",endpoint="/count",status="200"})'
            bad = 'sum(strawberry_requests_total{job="strawberry-api",endpoint="/count",status="422"})'
            deadline = time.monotonic() + 60
            while not ready(url):  # Prometheus starts in a few seconds; the tiny model answers faster than that
                assert prom.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "prometheus did not become ready in 60 s"
                time.sleep(0.5)
            while (prometheus_query(url, ok), prometheus_query(url, bad)) != (3.0, 1.0):
                assert prom.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
                assert time.monotonic() < deadline, (prometheus_query(url, ok), prometheus_query(url, bad))
                time.sleep(1)
            up = prometheus_query(url, 'up{job="strawberry-api"}')
            batches = prometheus_query(url, 'sum(strawberry_batch_size_count{endpoint="/count"})')
            assert up == 1.0 and batches is not None and 1 <= batches <= 3
        finally:
            prom.terminate()
            prom.wait(timeout=30)
