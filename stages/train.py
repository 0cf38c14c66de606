"""Stage train: LoRA fine-tuning on spelling (train split), early-stopped on val position/count accuracy."""

# First: imports Unsloth when the profile uses it, before transformers/TRL/PEFT (it patches them only then).
import strawberry.unsloth_first  # noqa: F401, I001

# isort: split

import os
import shutil
from pathlib import Path

from transformers import GenerationConfig

from strawberry.answer_modes import in_mode, load_mode_templates
from strawberry.arms import ADDED_PARTS, TRAIN_FILES
from strawberry.asking import pick_shots, sample_per_task
from strawberry.jsonl import read_jsonl, write_json
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.preflight import check_tokenizer, software_versions
from strawberry.profiles import load_model, load_profile, run_precision, stage_settings
from strawberry.prompts import chat_template_kwargs
from strawberry.training import (
    COMPLETE,
    added_steps,
    build_trainer,
    finish_wandb,
    last_complete_checkpoint,
    records_needed,
    run_key,
)

VAL = "data/splits/val.jsonl"
TEMPLATES = Path("data/templates")  # the worked/spell_first forms of val questions (train.val_mode)
ADAPTER_DIR = Path("models/adapter")
SNAPSHOTS_DIR = Path("models/snapshots")  # adapters at train.snapshot_steps (a dose-response run)
# Checkpoints are not outputs: a run resumes from them. On a spot machine, point this at a volume that outlives it.
CHECKPOINTS = Path(os.environ.get("STRAWBERRY_CHECKPOINTS", "models/checkpoints"))
# Also a checkpoint every $STRAWBERRY_RESUME_EVERY steps between val evaluations, for resuming only (unset: at
# evaluations only). Not a param: it changes no result, only how much of a cut-off run is kept (`scripts.study run`).
RESUME_EVERY = "STRAWBERRY_RESUME_EVERY"
LIVE_DIR = "dvclive/train"
TRAIN_METRICS = "metrics/train.json"  # a few numbers for `dvc exp show`; every logged value is in dvclive/train
VAL_CURVE = "metrics/val_curve.json"  # val accuracy at each evaluation, by training step (a DVC plot)


def train_summary(trainer) -> dict:
    """The best checkpoint's val accuracy and step, and the last training loss."""
    best = trainer.state.best_model_checkpoint
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {
        "best_val_accuracy": trainer.state.best_metric,
        "best_step": int(best.rsplit("-", 1)[1]) if best else None,
        "final_train_loss": losses[-1] if losses else None,
        "steps": trainer.state.global_step,
    }


def val_curve(trainer) -> list[dict]:
    """Each val evaluation of the run: its step and accuracies (position, count, their mean), one row each (the
    form `dvc plots show` draws)."""
    evals = [e for e in trainer.state.log_history if "eval_val_accuracy" in e]
    return [{"step": e["step"], "val_accuracy": e["eval_val_accuracy"], "position": e["eval_position_accuracy"],
             "count": e["eval_count_accuracy"]} for e in evals]  # fmt: skip


def keep_snapshots(saved: Path, steps: list[int], tokenizer) -> None:
    """models/snapshots: the adapters at train.snapshot_steps (with the tokenizer, so each loads like
    models/adapter) and an index (always there, so DVC has an output)."""
    shutil.rmtree(SNAPSHOTS_DIR, ignore_errors=True)
    SNAPSHOTS_DIR.mkdir(parents=True)
    kept = []
    for step in sorted(steps):
        if (saved / f"step-{step}" / COMPLETE).is_file():
            shutil.copytree(saved / f"step-{step}", SNAPSHOTS_DIR / f"step-{step}")
            tokenizer.save_pretrained(str(SNAPSHOTS_DIR / f"step-{step}"))
            kept.append(step)
    write_json(SNAPSHOTS_DIR / "index.json", {"steps": kept, "asked": sorted(steps)})


def training_set(cfg: dict) -> tuple[list[dict], dict, list[str]]:
    """The arm's training records, the train settings they run at (a mixed arm's steps) and the files read."""
    if cfg["arm"] not in TRAIN_FILES | ADDED_PARTS:
        raise ValueError(f"params.yaml train.arm={cfg['arm']!r}: choose one of {', '.join(TRAIN_FILES | ADDED_PARTS)}")
    if cfg["arm"] not in ADDED_PARTS:
        return records_needed(read_jsonl(TRAIN_FILES[cfg["arm"]]), cfg), cfg, [TRAIN_FILES[cfg["arm"]], VAL]
    main_arm, added_files = ADDED_PARTS[cfg["arm"]]
    train = records_needed(read_jsonl(TRAIN_FILES[main_arm]), cfg) if main_arm else []
    added = [r for path in added_files for r in read_jsonl(path)]
    if not added:
        raise ValueError(f"train.arm={cfg['arm']}: {', '.join(added_files)} hold no records "
                         "(arm spelling_replay needs replay.records > 0)")  # fmt: skip
    worked_steps = cfg["max_steps"] if main_arm else 0
    total = worked_steps + added_steps(len(added), cfg)
    # a run validated only at its end (eval_steps = max_steps, as the study's) stays so at the new length
    at_end = {k: total for k in ("eval_steps", "patience") if cfg[k] >= cfg["max_steps"]}
    get_logger("train").info("arm %s: %d %s records and one pass over %s (%d records): %d steps", cfg["arm"],
                             len(train), main_arm, ", ".join(added_files), len(added), total)  # fmt: skip
    files = [*([TRAIN_FILES[main_arm]] if main_arm else []), VAL, *added_files]
    return train + added, {**cfg, "max_steps": total, **at_end}, files


def main() -> None:
    run(load_params())


def run(params: dict, log_to_dvclive: bool = True, callbacks: list = ()):
    """The stage for these params; returns the trainer. Without dvclive it runs where DVC is not installed (the GPU
    rehearsal, tests/gpu/qwen3_4b_rehearsal.py, passes its own timing callback)."""
    log = get_logger("train")
    profile = load_profile(params)
    precision = run_precision(profile)  # a GPU profile on a CPU machine stops here, before loading anything
    lora, cfg = params["lora"], stage_settings(params, profile, "train")
    train, cfg, files = training_set(cfg)
    output_dir = CHECKPOINTS / run_key(profile, lora, cfg, files=files)
    resume = last_complete_checkpoint(output_dir)
    log.info(
        "profile %s, arm %s, precision %s; %s",
        profile.name,
        cfg["arm"],
        precision,
        f"resuming from {resume}" if resume else "starting from step 0",
    )
    if profile.settings.get("train"):
        log.info("profile %s sizes train: %s (params.yaml train: %s)", profile.name, profile.settings["train"],
                 {k: params["train"][k] for k in profile.settings["train"]})  # fmt: skip

    model, tokenizer = load_model(profile, for_training=True)
    check_tokenizer(profile, tokenizer)  # before any step: the data must spell this model's vocabulary
    template_kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    val = read_jsonl(VAL)
    shots = pick_shots(val, cfg["val_shots"], cfg["seed"])
    shot_words = {r["meta"]["word"] for rows in shots.values() for r in rows}
    n_val = cfg["val_questions"]
    val_questions = sample_per_task(val, {"position": n_val, "count": n_val}, cfg["seed"], shot_words)
    if cfg["val_mode"] != "direct":  # an arm trained to answer in another mode is validated in it
        by_mode = load_mode_templates(TEMPLATES)
        val_questions, (shots,) = in_mode(val_questions, [shots], cfg["val_mode"], by_mode)

    if log_to_dvclive:
        from dvclive import Live
        from transformers.integrations import DVCLiveCallback

        live = Live(LIVE_DIR, resume=resume is not None, dvcyaml=False, save_dvc_exp=False)
        callbacks = [*callbacks, DVCLiveCallback(live=live)]
    resume_every = int(os.environ.get(RESUME_EVERY, "0"))
    trainer = build_trainer(profile, model, tokenizer, lora, cfg, output_dir, train, val_questions, shots,
                            template_kwargs, precision, callbacks=callbacks, resume_every=resume_every)  # fmt: skip
    trainer.train(resume_from_checkpoint=resume)
    finish_wandb()
    log.info("best val accuracy %s at %s", trainer.state.best_metric, trainer.state.best_model_checkpoint)

    shutil.rmtree(ADAPTER_DIR, ignore_errors=True)
    trainer.save_model(str(ADAPTER_DIR))  # the best adapter (load_best_model_at_end)
    tokenizer.save_pretrained(str(ADAPTER_DIR))
    GenerationConfig(**profile.generation, pad_token_id=tokenizer.pad_token_id,
                     eos_token_id=tokenizer.eos_token_id).save_pretrained(str(ADAPTER_DIR))  # fmt: skip
    keep_snapshots(output_dir / "snapshots", cfg["snapshot_steps"], tokenizer)
    write_json(TRAIN_METRICS, {**train_summary(trainer), "precision": precision, "versions": software_versions()})
    write_json(VAL_CURVE, val_curve(trainer))
    shutil.rmtree(output_dir, ignore_errors=True)  # finished: nothing left to resume
    return trainer


if __name__ == "__main__":
    main()
