"""Check a run before a GPU starts paying for it (each check says what to do when it fails):

    python -m scripts.preflight                       # the active profile (params.yaml `model`)
    python -m scripts.preflight --model qwen3-4b      # another profile; --no-remote skips the DVC remote
    python -m scripts.preflight --grid grids/v3-calibration-qwen3-4b.yaml   # as a study grid's cells run it

1. remote: the DVC remote takes a test write (a bucket you do not own refuses);
2. device: the profile's GPU is there (GpuRequiredError otherwise);
3. revision: the hub weights load from the pinned commit, exactly (Unsloth's mirrors are not used);
4. tokenizer: the model's tokenizer has the vocabulary the data stages spelled (pinned sha256);
5. context: the longest prompt the evaluation sends (its worked examples, the longest words) plus its reply fits
   the profile's max_seq_length (needs the data: `dvc pull --with-deps analyze` first);
6. versions: what the run will record in metrics/train.json.
The stages run checks 2-4 themselves; this runs them without loading the model's weights.
"""

import argparse
import json
import sys
from pathlib import Path

from strawberry.context_check import ContextTooShortError
from strawberry.params import load_params
from strawberry.preflight import (
    RemoteRefusedError,
    TokenizerMismatchError,
    check_remote,
    check_tokenizer,
    software_versions,
)
from strawberry.profiles import GpuRequiredError, load_profile, run_precision, unsloth_load_kwargs


def load_tokenizer(profile):
    """The profile's tokenizer alone (no weights): from the hub at the pinned revision, or the random profile's."""
    if profile.source == "hub":
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(profile.model_id, revision=profile.revision)
    from strawberry.tokenizer import load_hf_tokenizer

    return load_hf_tokenizer(profile.tokenizer) if profile.source == "random" else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="profile name (default: params.yaml model)")
    parser.add_argument("--grid", type=Path, help="check params as this study grid's first cell runs them")
    parser.add_argument("--no-remote", action="store_true", help="skip the DVC remote's test write")
    args = parser.parse_args(argv)
    params = load_params()
    if args.grid:
        from strawberry.cells import grid_cells
        from strawberry.study.resolved import cell_params

        params = cell_params(params, grid_cells(args.grid)[0].overrides)
    profile = load_profile({**params, "model": args.model or params["model"]})
    failed = []

    def check(name: str, action) -> None:
        try:
            print(f"{name}: {action()}", flush=True)
        except (RemoteRefusedError, GpuRequiredError, TokenizerMismatchError, ContextTooShortError, OSError) as e:
            print(f"{name}: FAILED: {e}", flush=True)
            failed.append(name)

    if not args.no_remote:
        check("remote", lambda: f"{check_remote()} takes a test write")
    check("device", lambda: f"{run_precision(profile)} (profile {profile.name}, backend {profile.backend})")
    if profile.backend == "unsloth":
        check("revision", lambda: "Unsloth loads exactly " + json.dumps(unsloth_load_kwargs(profile)))
    elif profile.revision:
        print(f"revision: {profile.model_id}@{profile.revision} (transformers, pinned)")

    def tokenizer() -> str:
        if not profile.vocab_sha256:
            return "no pinned vocabulary in this profile: not checked"
        check_tokenizer(profile, load_tokenizer(profile))
        return f"vocabulary sha256 {profile.vocab_sha256[:16]}… matches the data's"

    check("tokenizer", tokenizer)

    def context() -> str:
        from strawberry.context_check import check_context
        from strawberry.tokenizer import load_hf_tokenizer

        if not Path("data/splits/test.jsonl").is_file():
            return "not checked: no data/splits/test.jsonl yet (`dvc pull --with-deps analyze`, then run this again)"
        tok = (load_tokenizer(profile) if profile.source == "hub" else None) or load_hf_tokenizer(params["tokenizer"])
        return check_context(tok, {**params, "model": profile.name}, profile)[0]

    check("context", context)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in software_versions().items()))
    if failed:
        sys.exit(f"preflight: {', '.join(failed)} failed: fix before `dvc exp run -S model={profile.name}`")
    print(f"preflight: ready for `dvc exp run -S model={profile.name}`")


if __name__ == "__main__":
    main()
