#!/usr/bin/env bash
# The cloud run's real stage path on a GPU machine: `dvc exp run -S model=tiny-qwen3-unsloth` (every stage, at
# params.yaml's defaults, through DVC and Unsloth) in a scratch git repo made from this working tree.
#   bash tests/gpu/stage_path.sh [site.tar.xz ...]
# Where the machine has no package index, carry requirements-gpu.txt's packages (those the machine lacks) as
# tarballs of a `pip install --target` folder and name them: they are unpacked into /tmp/site. $OUT (default
# /tmp/stage-path) receives the DVC log, `dvc exp show` and the metrics. DVC_LIMIT (s) stops DVC with a traceback.
set -o pipefail
OUT=${OUT:-/tmp/stage-path}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 GIT_PYTHON_REFRESH=quiet TOKENIZERS_PARALLELISM=false DVC_NO_ANALYTICS=1
export GIT_AUTHOR_NAME=rehearsal GIT_AUTHOR_EMAIL=rehearsal@localhost
export GIT_COMMITTER_NAME=rehearsal GIT_COMMITTER_EMAIL=rehearsal@localhost
T0=$(date +%s); el() { echo "[t+$(( $(date +%s) - T0 ))s] $*"; }
if [ $# -gt 0 ]; then
  mkdir -p /tmp/site && for t in "$@"; do tar -xJf "$t" -C /tmp/site || exit 3; done
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
# the stages run as `python -m ...`: a wrapper, not a symbolic link (a link to a venv's interpreter loses its packages)
mkdir -p /tmp/bin && printf '#!/bin/sh\nexec python3 "$@"\n' > /tmp/bin/python && chmod +x /tmp/bin/python
export PATH=/tmp/bin:$PATH
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
rm -rf /tmp/proj && mkdir /tmp/proj && tar -c --exclude=./.gpusite --exclude=./.git --exclude=./.venv . | tar -x -C /tmp/proj
cd /tmp/proj || exit 3
printf '[core]\n    check_update = false\n    analytics = false\n' > .dvc/config   # offline: no remote, no update check
git init -q && git add -A && git commit -qm "stage path rehearsal"
el "repo ready: $(python3 -m dvc version 2>&1 | head -1)"
timeout -s INT -k 15 "${DVC_LIMIT:-900}" python3 -m dvc exp run -v -n unsloth-stage-path -S model=tiny-qwen3-unsloth 2>&1 \
  | tee "$OUT/dvc-exp-run.log" | grep -E --line-buffered "Running stage|skipping|ERROR|Ran experiment|^[0-9:]+ [a-z_]+:"
el "dvc exp run rc ${PIPESTATUS[0]}"
python3 -m dvc exp show --no-pager --md > "$OUT/exp-show.md" 2>&1
for f in train eval eval_details; do cp "metrics/$f.json" "$OUT/" 2>/dev/null; done
el done
