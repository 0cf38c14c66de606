#!/usr/bin/env bash
# Runs the test suite: `bash scripts/test.sh` (extra args go to pytest).
# Installs what the pipeline needs (scripts/setup.sh) and what the tests add (scripts/setup-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-tests.sh
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1
# One torch thread per process: the tests' models are tiny, and with two workers each starting torch processes
# (DVC stages, servers), OpenMP threads that outnumber the cores spin against each other.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
.venv/bin/ruff check .
# One test file per worker (--dist loadfile): a file's module fixtures (a tiny DVC project, a server) are built once.
# Most tests wait on subprocesses (DVC, servers, Prometheus): three workers overlap that waiting on two cores
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-3}" --dist loadfile --durations=15 "$@"
