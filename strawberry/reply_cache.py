"""Finished batches of greedy replies kept on disk, so that a long evaluation cut off (a session's end, a spot GPU
taken back) resumes at its next batch instead of from its first. Off unless $STRAWBERRY_REPLY_CACHE names a folder.

A batch is reused only where it would come out the same: greedy decoding, the same model (its config, dtype and
autocast, a hash of its LoRA weights and a sample of its other weights), the same token ids in the same batch, the
same prefix, settings and stops. One JSON line per batch in one file per model, appended after each batch; a line
cut short by a kill is ignored. The cache only saves time: no stage output depends on the folder, so it is no DVC
dependency (like the training checkpoints)."""

import hashlib
import json
import os
from pathlib import Path

from strawberry.logs import get_logger

REPLY_CACHE = "STRAWBERRY_REPLY_CACHE"
SAMPLED = 4096  # entries hashed per base weight tensor


def model_fingerprint(model) -> str:
    """What decides a model's greedy replies besides its inputs: its config, dtype and CPU autocast, every LoRA
    weight, and a strided sample of every other weight (an adapter merged into the base weights changes all of a
    matrix's entries, so the sample tells a merged model from base; hashing all of a 4B model would take seconds)."""
    import torch  # here, not at the top: scripts.study reads this module's names without loading torch

    config = {k: v for k, v in model.config.to_dict().items() if k not in ("_name_or_path", "transformers_version")}
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    autocast = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None
    digest.update(f"{model.dtype}|{autocast}".encode())
    for name, param in sorted(model.named_parameters()):
        values = param.detach().flatten()
        if "lora_" not in name:
            values = values[:: max(1, values.numel() // SAMPLED)]
        digest.update(name.encode())
        digest.update(values.float().cpu().numpy().tobytes())
    return digest.hexdigest()[:20]


class ReplyCache:
    """Replies of finished batches of one model, read from and appended to `folder/<fingerprint>.jsonl`."""

    def __init__(self, folder: Path, fingerprint: str):
        self.path = folder / f"{fingerprint}.jsonl"
        self.entries: dict[str, list[str]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # the last line of a run that was killed while writing
                    continue
                self.entries[entry["key"]] = entry["replies"]
        get_logger("reply_cache").info("reply cache %s: %d finished batches", self.path, len(self.entries))

    @classmethod
    def from_env(cls, model, generation: dict) -> "ReplyCache | None":
        """The cache of $STRAWBERRY_REPLY_CACHE for this model, or None (unset, or sampled decoding, whose
        replies depend on every batch drawn before)."""
        folder = os.environ.get(REPLY_CACHE)
        if not folder or generation.get("do_sample"):
            return None
        Path(folder).mkdir(parents=True, exist_ok=True)
        return cls(Path(folder), model_fingerprint(model))

    @staticmethod
    def key(batch_ids: list[list[int]], prefix_len: int, generation: dict, limits: list[int] | None,
            stop_line: str | None) -> str:  # fmt: skip
        what = [batch_ids, prefix_len, sorted(generation.items()), limits, stop_line]
        return hashlib.sha256(json.dumps(what, default=str).encode()).hexdigest()

    def get(self, key: str) -> list[str] | None:
        return self.entries.get(key)

    def put(self, key: str, replies: list[str]) -> None:
        self.entries[key] = replies
        with self.path.open("a") as f:
            f.write(json.dumps({"key": key, "replies": replies}) + "\n")
