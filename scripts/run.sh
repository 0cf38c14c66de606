#!/usr/bin/env bash
# Runs the whole pipeline on the local default profile: `bash scripts/run.sh` (extra args go to dvc repro).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
.venv/bin/dvc repro "$@"
