"""W&B, when switched on, logs the val position/count accuracy: offline, no login, no network."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import yaml
from strawberry.asking import pick_shots
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs
from strawberry.training import build_trainer, finish_wandb

params = yaml.safe_load(open("params.yaml"))
profile = load_profile({**params, "model": "tiny-qwen3"})
model, tokenizer = load_model(profile, for_training=True)
kwargs = chat_template_kwargs(tokenizer)
def q(task, word, out, **m):
    meta = {"task": task, "word": word, **m}
    return {"instruction": f"What about '{word}'?", "input": "", "output": out, "meta": meta}
train = [{"instruction": f"Spell '{w}'.", "input": "", "output": " ".join(w), "meta": {"task": "spelling"}}
         for w in ("straw", "berry", "ing", "the")]
val = [q("position", "added", "a", position_category="first"), q("count", "added", "3", letter="d")]
cfg = {**params["train"], "wandb": True, "max_steps": 2, "eval_steps": 2, "batch_size": 2, "warmup_steps": 0,
       "logging_steps": 1}
trainer = build_trainer(profile, model, tokenizer, params["lora"], cfg, __import__("pathlib").Path(OUT) / "ckpt",
                        train, val, pick_shots(val, 0, 0), kwargs, "fp32")
trainer.train()
import json, wandb
print("SUMMARY", json.dumps({k: v for k, v in dict(wandb.run.summary).items() if isinstance(v, (int, float))}))
print("MODE", wandb.run.settings.mode)
finish_wandb()
"""


def test_offline_wandb_run_records_position_and_count(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env |= {"WANDB_DIR": str(tmp_path), "WANDB_PROJECT": "strawberry-test", "HOME": str(tmp_path),
            "HF_HUB_OFFLINE": "1", "STRAWBERRY_CACHE": os.environ.get("STRAWBERRY_CACHE", str(
                __import__("strawberry.profiles", fromlist=["CACHE"]).CACHE))}  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", f"OUT = {str(tmp_path)!r}\n" + SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = list(tmp_path.glob("wandb/offline-run-*/run-*.wandb"))
    assert len(runs) == 1 and runs[0].stat().st_size > 0, proc.stderr[-2000:]  # offline: no login, nothing sent
    assert "MODE offline" in proc.stdout
    summary = json.loads(proc.stdout.split("SUMMARY ", 1)[1].splitlines()[0])  # the run's own summary
    assert {"eval/position_accuracy", "eval/count_accuracy", "eval/val_accuracy"} <= set(summary)
    assert 0 <= summary["eval/position_accuracy"] <= 1 and "train/loss" in summary
