"""Checks that run before a (paid) GPU trains, each failing with a message that says what to do, and the software
versions every run records.

- tokenizer: the model's tokenizer has the vocabulary the data stages spelled (a pinned hash), else the whole
  training set would be wrong for the model;
- revision: hub weights load from the pinned commit, never from a mirror Unsloth would swap in (profiles.py);
- remote: the DVC remote answers before anything is pulled or pushed (a bucket you do not own refuses);
- versions: torch, transformers, TRL, PEFT, Unsloth, CUDA and the GPU, recorded with each run.
"""

import hashlib
import importlib.metadata
import uuid

from strawberry.precision import NATIVE_BF16_FLAGS, cpu_flags

PACKAGES = ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "unsloth", "bitsandbytes")


class TokenizerMismatchError(RuntimeError):
    """The model's tokenizer is not the one whose vocabulary the training data spells."""


class RemoteRefusedError(RuntimeError):
    """The DVC remote cannot be reached or refuses this machine's credentials."""


def software_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (None: not installed; Unsloth is never imported
    here), the CUDA build of torch, the GPU's name (None on a CPU) and the CPU's native bf16 instructions
    (avx512_bf16, amx_bf16: the path bf16 autocast takes; None without them)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    import torch

    versions["cuda"] = torch.version.cuda
    versions["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    # bf16 autocast's kernels differ by instruction set, and greedy decoding turns a near-tie into another answer
    versions["cpu_bf16"] = ",".join(sorted(NATIVE_BF16_FLAGS & cpu_flags())) or None
    return versions


def vocab_sha256(tokenizer) -> str:
    """sha256 of a tokenizer's regular vocabulary (id and token, in id order; added tokens left out): two tokenizers
    with the same hash give every regular token the same id."""
    vocab = tokenizer.backend_tokenizer.get_vocab(with_added_tokens=False)
    lines = "\n".join(f"{i}\t{token}" for token, i in sorted(vocab.items(), key=lambda kv: kv[1]))
    return hashlib.sha256(lines.encode()).hexdigest()


def check_tokenizer(profile, tokenizer) -> None:
    """Refuse a model whose tokenizer's vocabulary is not the pinned one (`vocab_sha256` in its profile: the
    vocabulary of the Qwen3 tokenizer files the data stages spelled)."""
    if not profile.vocab_sha256:
        return
    found = vocab_sha256(tokenizer)
    if found != profile.vocab_sha256:
        source = f"{profile.model_id}@{profile.revision}" if profile.model_id else profile.name
        raise TokenizerMismatchError(
            f"profile {profile.name}: the tokenizer of {source} ({getattr(tokenizer, 'name_or_path', '?')}) has "
            f"vocabulary sha256 {found[:16]}…, but the training data spells the vocabulary with sha256 "
            f"{profile.vocab_sha256[:16]}… (the Qwen3 tokenizer files of params.yaml `tokenizer`): the spelled tokens "
            "would not be this model's. Pin the model revision whose tokenizer is Qwen3's, or rebuild the data with "
            "this tokenizer (params.yaml tokenizer) and its hash in profiles.<name>.vocab_sha256."
        )


def check_remote(repo_dir: str = ".", remote: str | None = None) -> str:
    """Write and delete a small object on the DVC remote (what `dvc push` needs) before anything is pulled or
    pushed: the remote's name and URL when it works, else RemoteRefusedError saying how to point it at a bucket of
    one's own."""
    from dvc.repo import Repo

    with Repo(repo_dir) as repo:
        target = repo.cloud.get_remote(remote)
        url = repo.config["remote"][target.name]["url"]
        probe = target.fs.join(target.path, f".preflight-{uuid.uuid4().hex}")
        try:
            target.fs.pipe_file(probe, b"strawberry-spelling preflight\n")
            target.fs.rm_file(probe)
        except Exception as e:  # what the storage says (no bucket, access denied, no endpoint) goes into the message
            raise RemoteRefusedError(
                f"the DVC remote '{target.name}' ({url}) refused a test write: {type(e).__name__}: {e}. The bucket in "
                f".dvc/config is the project's, not yours: point the remote at yours with `dvc remote modify --local "
                f"{target.name} url s3://<your-bucket>/<path>` (and endpointurl, access_key_id, secret_access_key the "
                "same way; docs/cloud.md)"
            ) from None
    return f"{target.name} ({url})"
