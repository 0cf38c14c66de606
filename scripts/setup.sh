#!/usr/bin/env bash
# Creates .venv and installs the local (CPU) requirements; does nothing when they are already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# A real Prometheus server for tests/test_monitoring.py (Debian's package; skipped with a note where apt is not ours).
if ! command -v prometheus >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian's prometheus (for the monitoring test)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "setup: no prometheus binary and no root apt-get: tests/test_monitoring.py will be skipped" >&2
  fi
fi
# SkyPilot's task loader for tests/test_cells.py, in a venv of its own (requirements-sky.txt says why).
sky_want=$(sha256sum requirements-sky.txt | cut -d' ' -f1)
if [ ! -f .venv-sky/.requirements.sha256 ] || [ "$(cat .venv-sky/.requirements.sha256)" != "$sky_want" ]; then
  echo "setup: installing SkyPilot into .venv-sky" >&2
  [ -x .venv-sky/bin/python ] || python3 -m venv .venv-sky
  .venv-sky/bin/pip install -q -r requirements-sky.txt
  echo "$sky_want" > .venv-sky/.requirements.sha256
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-serve.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "setup: installing requirements into .venv (first run takes a few minutes)" >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements.txt
.venv/bin/pip install -q --no-deps -r requirements-nodeps.txt
echo "$want" > "$stamp"
