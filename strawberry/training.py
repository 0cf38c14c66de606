"""train's core: TRL SFT on prompt/completion pairs, validation accuracy by generation, resumable checkpoints."""

import hashlib
import json
import os
import random
import re
from pathlib import Path

from datasets import Dataset
from peft import LoraConfig
from transformers import EarlyStoppingCallback, TrainerCallback
from trl import SFTConfig, SFTTrainer

from strawberry.answer_modes import mode_generation
from strawberry.asking import ask
from strawberry.precision import autocast
from strawberry.profiles import Profile
from strawberry.prompts import render_prompt
from strawberry.scoring import accuracy

COMPLETE = "COMPLETE"  # marker written once a checkpoint is fully on disk


def sft_dataset(tokenizer, records: list[dict], template_kwargs: dict) -> Dataset:
    """Prompt/completion pairs (TRL computes the loss on the completion only); the prompt is rendered by the
    same render_prompt as at evaluation, so training and evaluation prompts are byte-identical."""
    return Dataset.from_dict({
        "prompt": [render_prompt(tokenizer, r, (), template_kwargs) for r in records],
        "completion": [r["output"] for r in records],  # TRL appends the EOS token
    })  # fmt: skip


def run_key(*parts: object, files: list[str]) -> str:
    """A short hash of the training configuration and data, naming its checkpoint folder."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    for name in files:
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()[:16]


def last_complete_checkpoint(output_dir: Path) -> str | None:
    """The newest checkpoint with the COMPLETE marker; a checkpoint cut off mid-write is ignored."""
    steps = []
    for path in output_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and (path / COMPLETE).is_file():
            steps.append((int(match.group(1)), path))
    if not steps:
        return None
    newest = max(steps)[1]
    point_best_into(newest)
    return str(newest)


def point_best_into(checkpoint: Path) -> None:
    """The trainer records its best checkpoint by path. If the checkpoint folder moved since (another volume mount,
    a copied folder), point that record at the same checkpoint here: otherwise the trainer forgets which was best
    while keeping its score, and a resumed run could end on a later, worse adapter than an unbroken run."""
    state_file = checkpoint / "trainer_state.json"
    if not state_file.is_file():
        return
    state = json.loads(state_file.read_text())
    best = state.get("best_model_checkpoint")
    if not best or Path(best).is_dir():
        return
    here = checkpoint.parent / Path(best).name
    if here.is_dir():
        state["best_model_checkpoint"] = str(here)
        tmp = state_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, state_file)


class SaveForResuming(TrainerCallback):
    """A checkpoint every `every` steps between the val evaluations, for resuming only (it has no val score, so it
    is never the best): a run cut off (a session's end, a spot preemption) loses at most `every` steps instead of
    all since the last evaluation. Saving reads the random states and draws nothing, so the run is unchanged."""

    def __init__(self, every: int):
        self.every = every

    def on_step_end(self, args, state, control, **kwargs):
        if self.every and state.global_step % self.every == 0 and state.global_step < state.max_steps:
            control.should_save = True


class MarkCompleteCheckpoints(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if path.is_dir():
            (path / COMPLETE).write_text(f"step {state.global_step}\n")
            print(f"checkpoint saved: {path}", flush=True)


def records_needed(records: list[dict], cfg: dict) -> list[dict]:
    """The records a run of max_steps x batch x grad_accum can see: a seeded sample, so that the trainer tokenizes
    a few hundred records rather than all 54,508 (every arm samples the same way)."""
    n = cfg["max_steps"] * cfg["batch_size"] * cfg["grad_accum"]
    if n >= len(records):
        return records
    return random.Random(cfg["seed"]).sample(records, n)


def added_steps(n_records: int, cfg: dict) -> int:
    """Steps of one pass over n added records at the run's batch (a mixed arm's added part)."""
    return -(-n_records // (cfg["batch_size"] * cfg["grad_accum"]))


class SaveSnapshots(TrainerCallback):
    """Keeps the adapter at fixed steps (train.snapshot_steps), whatever val says: a dose-response curve over
    training length reads these, not the selected best checkpoint. They go beside the checkpoints, so a run that
    was cut off and resumed still has the earlier ones."""

    def __init__(self, steps: list[int], out_dir: Path):
        self.steps, self.out_dir = set(steps), out_dir

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step in self.steps:
            path = self.out_dir / f"step-{state.global_step}"
            model.save_pretrained(str(path))
            (path / COMPLETE).write_text(f"step {state.global_step}\n")
            print(f"snapshot saved: {path}", flush=True)


class ValAccuracyTrainer(SFTTrainer):
    """SFTTrainer whose evaluation asks val position/count questions by generation (no loss on val): early
    stopping and best-checkpoint selection follow letter knowledge, not token likelihood."""

    def __init__(self, *args, val_questions: list[dict], val_shots: dict, template_kwargs: dict,
                 generation: dict, gen_batch_size: int, precision: str, val_mode: str = "direct",
                 **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.val_questions, self.val_shots, self.val_mode = val_questions, val_shots, val_mode
        self.template_kwargs, self.generation, self.gen_batch_size = template_kwargs, generation, gen_batch_size
        self.precision = precision

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        # generate() bypasses the autocast that accelerate wraps around forward, so it gets its own
        with autocast(self.precision):
            generation = mode_generation(self.processing_class, self.val_questions, self.generation, self.val_mode)
            rows = ask(self.model, self.processing_class, self.val_questions, self.val_shots, self.template_kwargs,
                       generation, self.gen_batch_size, self.args.seed, desc="val questions",
                       mode=self.val_mode)  # fmt: skip
        by_task = {t: accuracy([r for r in rows if r["meta"]["task"] == t])["accuracy"] for t in ("position", "count")}
        metrics = {f"{metric_key_prefix}_position_accuracy": by_task["position"],
                   f"{metric_key_prefix}_count_accuracy": by_task["count"],
                   f"{metric_key_prefix}_val_accuracy": (by_task["position"] + by_task["count"]) / 2}  # fmt: skip
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


def wandb_enabled(flag: bool) -> bool:
    """W&B only when asked (param or WANDB_PROJECT); without a login it logs offline instead of prompting."""
    if not (flag or os.environ.get("WANDB_PROJECT")):
        return False
    if not os.environ.get("WANDB_API_KEY") and not (Path.home() / ".netrc").is_file():
        os.environ.setdefault("WANDB_MODE", "offline")
    return True


def finish_wandb() -> None:
    """Close the W&B run (if one was started) so its summary and history are written, offline too."""
    import sys

    if "wandb" in sys.modules and sys.modules["wandb"].run is not None:
        sys.modules["wandb"].finish()


def build_trainer(profile: Profile, model, tokenizer, lora: dict, cfg: dict, output_dir: Path, train: list[dict],
                  val_questions: list[dict], shots: dict, template_kwargs: dict, precision: str, callbacks: list = (),
                  resume_every: int = 0) -> ValAccuracyTrainer:  # fmt: skip
    """The SFT trainer for params.yaml's `lora` and `train` sections: PEFT LoRA (Unsloth's on its backend),
    checkpoints every eval_steps, early stopping and best-adapter selection on val accuracy. `precision` is
    strawberry.profiles.run_precision's: on a CPU, bf16 autocast (accelerate's mixed precision: fp32 weights,
    LoRA and optimizer state) or plain fp32."""
    peft_config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                             target_modules=lora["target_modules"], bias="none", task_type="CAUSAL_LM")  # fmt: skip
    if profile.backend == "unsloth":
        from unsloth import FastLanguageModel  # GPU only: never imported on a CPU machine

        model = FastLanguageModel.get_peft_model(
            model, r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
            target_modules=lora["target_modules"], bias="none",
            use_gradient_checkpointing=profile.gradient_checkpointing, random_state=cfg["seed"])  # fmt: skip
        peft_config = None
    args = SFTConfig(
        output_dir=str(output_dir), max_steps=cfg["max_steps"], learning_rate=cfg["learning_rate"],
        per_device_train_batch_size=cfg["batch_size"], gradient_accumulation_steps=cfg["grad_accum"],
        warmup_steps=cfg["warmup_steps"], lr_scheduler_type=cfg["lr_scheduler"], seed=cfg["seed"],
        data_seed=cfg["seed"],
        max_length=cfg["max_length"], completion_only_loss=True, logging_steps=cfg["logging_steps"],
        eval_strategy="steps", eval_steps=cfg["eval_steps"], save_strategy="steps", save_steps=cfg["eval_steps"],
        save_total_limit=cfg["save_total_limit"], load_best_model_at_end=True,
        metric_for_best_model="val_accuracy", greater_is_better=True,
        report_to=["wandb"] if wandb_enabled(cfg["wandb"]) else [],
        use_cpu=precision != "cuda", dataloader_num_workers=0,
        # TRL defaults both on; on a CPU, bf16 follows `precision`, and checkpointing (recomputing activations
        # to save memory) only costs time: a 0.5B model's activations fit in RAM many times over
        **({"gradient_checkpointing": bool(profile.gradient_checkpointing)} if precision == "cuda"
           else {"bf16": precision == "bf16-autocast", "gradient_checkpointing": False}),
        include_num_input_tokens_seen="non_padding",  # tokens/s in the logs
    )  # fmt: skip
    return ValAccuracyTrainer(
        model=model, args=args, processing_class=tokenizer, peft_config=peft_config,
        train_dataset=sft_dataset(tokenizer, train, template_kwargs),
        eval_dataset=sft_dataset(tokenizer, val_questions[:8], template_kwargs),  # unused: evaluate() generates
        callbacks=[*callbacks, SaveForResuming(resume_every), MarkCompleteCheckpoints(),
                   SaveSnapshots(cfg["snapshot_steps"], output_dir / "snapshots"),
                   EarlyStoppingCallback(early_stopping_patience=cfg["patience"])],
        val_questions=val_questions, val_shots=shots, template_kwargs=template_kwargs,
        generation=profile.generation, gen_batch_size=cfg["gen_batch_size"], precision=precision,
        val_mode=cfg["val_mode"],
    )  # fmt: skip
