#!/usr/bin/env bash
# What the test suite adds to the pipeline's setup (scripts/setup.sh): requirements-test.txt into .venv, Debian's
# prometheus for the monitoring test (as root with apt-get; skipped with a note otherwise) and SkyPilot in a venv of
# its own (.venv-sky) for the cell test. Each part does nothing when it is already installed. Prometheus and SkyPilot
# install in the background while pip fills .venv: the three mostly wait on downloads, and CI starts from nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# A real Prometheus server for tests/test_monitoring.py (Debian's package; skipped with a note where apt is not ours).
install_prometheus() {
  command -v prometheus >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup-tests: installing Debian's prometheus (for the monitoring test)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "setup-tests: no prometheus binary and no root apt-get: tests/test_monitoring.py will be skipped" >&2
  fi
}

# SkyPilot's task loader for tests/test_cells.py, in a venv of its own (requirements-sky.txt says why).
install_skypilot() {
  local want
  want=$(sha256sum requirements-sky.txt | cut -d' ' -f1)
  [ -f .venv-sky/.requirements.sha256 ] && [ "$(cat .venv-sky/.requirements.sha256)" = "$want" ] && return 0
  echo "setup-tests: installing SkyPilot into .venv-sky (for the cell test)" >&2
  [ -x .venv-sky/bin/python ] || python3 -m venv .venv-sky
  .venv-sky/bin/pip install -q -r requirements-sky.txt
  echo "$want" > .venv-sky/.requirements.sha256
}

install_prometheus & prometheus_pid=$!
install_skypilot & skypilot_pid=$!
bash scripts/setup.sh
stamp=.venv/.requirements-test.sha256
want=$(cat requirements.txt requirements-test.txt requirements-serve.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup-tests: installing requirements-test.txt (pytest, ruff, moto, LitServe, locust, linters) into .venv" >&2
  .venv/bin/pip install -q -r requirements.txt -r requirements-test.txt
  echo "$want" > "$stamp"
fi
wait "$prometheus_pid" || { echo "setup-tests: installing prometheus failed" >&2; exit 1; }
wait "$skypilot_pid" || { echo "setup-tests: installing SkyPilot failed" >&2; exit 1; }
