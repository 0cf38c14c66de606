"""Deployment files checked offline (no container runtime or cluster here): Dockerfiles linted by hadolint,
Kubernetes manifests validated against the Kubernetes schemas, the containers' command is the one the serving
tests start, and the Grafana dashboard charts only series the server exports."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.serve import parse_args
from strawberry.serving.launch import serve_command
from strawberry.serving.metrics import METRICS, exported_names
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
DOCKERFILES = ["Dockerfile", "Dockerfile.cuda"]
MANIFESTS = ["k8s/api.yaml", "k8s/prometheus.yaml", "k8s/gpu/vllm.yaml", "k8s/study-job.yaml"]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_lints_clean(name):
    proc = subprocess.run([BIN / "hadolint", "--failure-threshold", "info", DEPLOY / name], capture_output=True,
                          text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install litserve\nCMD python -m scripts.serve\n")
    proc = subprocess.run([BIN / "hadolint", bad], capture_output=True, text=True)
    assert proc.returncode != 0 and "DL3006" in proc.stdout  # untagged image


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_is_valid_kubernetes(name):
    proc = subprocess.run([BIN / "kubernetes-validate", "--strict", DEPLOY / name], capture_output=True, text=True)
    assert proc.returncode == 0 and "passed" in proc.stdout, proc.stdout + proc.stderr


def test_kubernetes_validate_catches_a_bad_manifest(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n")
    proc = subprocess.run([BIN / "kubernetes-validate", "--strict", bad], capture_output=True, text=True)
    assert proc.returncode != 0


def _cmd(dockerfile: str) -> list[str]:
    line = [x for x in (DEPLOY / dockerfile).read_text().splitlines() if x.startswith("CMD ")][-1]
    return json.loads(line[4:])


def _containers(manifest: str) -> dict[str, list[str]]:
    out = {}
    for doc in yaml.safe_load_all((DEPLOY / manifest).read_text()):
        if doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                out[doc["metadata"]["name"]] = container.get("command") or container.get("args")
    return out


def test_container_commands_are_the_served_command():
    """Every API container runs `python -m scripts.serve` with arguments scripts.serve accepts (the command
    tests/test_serving.py starts), and the CPU Deployment runs exactly the CPU image's CMD."""
    commands = [_cmd(d) for d in DOCKERFILES] + [_containers("k8s/api.yaml")["strawberry-api"],
                                                  _containers("k8s/gpu/vllm.yaml")["strawberry-api"]]  # fmt: skip
    tested = serve_command(8000, [])  # what tests/test_serving.py starts, with this interpreter
    for command in commands:
        assert command[:3] == ["python", *tested[1:3]], command
        parse_args(command[3:])  # exits on an argument scripts.serve does not know
    assert _containers("k8s/api.yaml")["strawberry-api"] == _cmd("Dockerfile")


def test_probes_and_scrape_config_point_at_the_server():
    for manifest in ("k8s/api.yaml", "k8s/gpu/vllm.yaml"):
        for doc in yaml.safe_load_all((DEPLOY / manifest).read_text()):
            if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "strawberry-api":
                container = doc["spec"]["template"]["spec"]["containers"][0]
                for probe in ("readinessProbe", "livenessProbe"):
                    assert container[probe]["httpGet"]["path"] == "/health"
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())["scrape_configs"][0]
    assert scrape["metrics_path"] == "/metrics"
    k8s = yaml.safe_load(yaml.safe_load((DEPLOY / "k8s/prometheus.yaml").read_text())["data"]["prometheus.yml"])
    assert k8s["scrape_configs"][0]["metrics_path"] == "/metrics"


def test_dashboard_charts_exported_series_only():
    dashboard = json.loads((DEPLOY / "grafana/dashboards/strawberry.json").read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    named = {name for q in queries for name in re.findall(r"\bstrawberry_[a-z_]+", q)}
    assert named and named <= exported_names(), named - exported_names()
    charted_families = {n.removesuffix(s) for n in named for s in ("_total", "_bucket", "_sum", "_count")
                        if n.endswith(s)}  # fmt: skip
    assert charted_families == {name for _, name, *_ in METRICS.values()}  # every metric has a panel


def test_compose_provisions_the_dashboard_and_scrapes_the_api():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"api", "prometheus", "grafana"}
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            assert (DEPLOY / volume.split(":")[0]).exists(), volume
    assert compose["services"]["api"]["build"]["dockerfile"] == "deploy/Dockerfile"
    target = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())["scrape_configs"][0]
    assert target["static_configs"][0]["targets"] == ["api:8000"]
    assert shlex.join(_cmd("Dockerfile")).endswith("--port 8000 --adapter models/adapter")


def test_keys_and_scrape_token_are_wired(monkeypatch):
    """Compose and Kubernetes hand the server its keys and scrape token as files (env names scripts.serve reads),
    and every Prometheus config sends the token; the dashboard charts the refusals."""
    monkeypatch.setenv("STRAWBERRY_API_KEYS_FILE", "/k")
    monkeypatch.setenv("STRAWBERRY_METRICS_TOKEN_FILE", "/t")
    served = parse_args([])
    assert (served.api_keys_file, served.metrics_token_file) == ("/k", "/t")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    api = compose["services"]["api"]
    assert api["environment"]["STRAWBERRY_API_KEYS_FILE"] == "/run/secrets/api_keys"
    assert api["environment"]["STRAWBERRY_METRICS_TOKEN_FILE"] == "/run/secrets/metrics_token"
    assert set(api["secrets"]) == {"api_keys", "metrics_token"} == set(compose["secrets"])
    assert compose["services"]["prometheus"]["secrets"] == ["metrics_token"]
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())["scrape_configs"][0]
    assert scrape["authorization"] == {"type": "Bearer", "credentials_file": "/run/secrets/metrics_token"}
    k8s = yaml.safe_load(yaml.safe_load((DEPLOY / "k8s/prometheus.yaml").read_text())["data"]["prometheus.yml"])
    assert k8s["scrape_configs"][0]["authorization"]["credentials_file"].endswith("/metrics-token")
    for manifest in ("k8s/api.yaml", "k8s/gpu/vllm.yaml"):
        for doc in yaml.safe_load_all((DEPLOY / manifest).read_text()):
            if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "strawberry-api":
                pod = doc["spec"]["template"]["spec"]
                env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
                mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "api-secrets")
                assert env["STRAWBERRY_API_KEYS_FILE"] == mount["mountPath"] + "/api-keys", manifest
                assert env["STRAWBERRY_METRICS_TOKEN_FILE"] == mount["mountPath"] + "/metrics-token", manifest
                volume = next(v for v in pod["volumes"] if v["name"] == "api-secrets")
                assert volume["secret"]["secretName"] == "strawberry-api", manifest
    dashboard = json.loads((DEPLOY / "grafana/dashboards/strawberry.json").read_text())
    assert any("401|413|429" in t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
