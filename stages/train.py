"""Stage train: LoRA fine-tuning on spelling (train split), early-stopped on val position/count accuracy."""

import shutil
from pathlib import Path

from dvclive import Live
from peft import LoraConfig
from transformers import EarlyStoppingCallback, GenerationConfig
from transformers.integrations import DVCLiveCallback
from trl import SFTConfig

from strawberry.evaluation import pick_shots, sample_per_task
from strawberry.jsonl import read_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.profiles import load_model, load_profile, require_device
from strawberry.prompts import chat_template_kwargs
from strawberry.training import (
    MarkCompleteCheckpoints,
    ValAccuracyTrainer,
    last_complete_checkpoint,
    run_key,
    sft_dataset,  # fmt: skip
    wandb_enabled,
)

TRAIN, VAL = "data/splits/train.jsonl", "data/splits/val.jsonl"
ADAPTER_DIR = Path("models/adapter")
CHECKPOINTS = Path("models/checkpoints")
LIVE_DIR = "dvclive/train"


def main() -> None:
    log = get_logger("train")
    params = load_params()
    profile = load_profile(params)
    require_device(profile)  # a GPU profile on a CPU machine stops here, before loading anything
    lora, cfg = params["lora"], params["train"]

    output_dir = CHECKPOINTS / run_key(profile, lora, cfg, files=[TRAIN, VAL])
    resume = last_complete_checkpoint(output_dir)
    log.info("profile %s; %s", profile.name, f"resuming from {resume}" if resume else "starting from step 0")

    model, tokenizer = load_model(profile, for_training=True)
    template_kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    train = read_jsonl(TRAIN)
    val = read_jsonl(VAL)
    shots = pick_shots(val, cfg["val_shots"], cfg["seed"])
    shot_words = {r["meta"]["word"] for rows in shots.values() for r in rows}
    val_questions = [q for q in sample_per_task(val, cfg["val_questions"], cfg["seed"], shot_words)
                     if q["meta"]["task"] in ("position", "count")]  # fmt: skip

    peft_config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                             target_modules=lora["target_modules"], bias="none", task_type="CAUSAL_LM")  # fmt: skip
    if profile.backend == "unsloth":
        from unsloth import FastLanguageModel  # GPU only

        model = FastLanguageModel.get_peft_model(
            model, r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=0, target_modules=lora["target_modules"],
            bias="none", use_gradient_checkpointing="unsloth", random_state=cfg["seed"])  # fmt: skip
        peft_config = None

    report_to = ["wandb"] if wandb_enabled(cfg["wandb"]) else []
    args = SFTConfig(
        output_dir=str(output_dir), max_steps=cfg["max_steps"], learning_rate=cfg["learning_rate"],
        per_device_train_batch_size=cfg["batch_size"], gradient_accumulation_steps=cfg["grad_accum"],
        warmup_steps=cfg["warmup_steps"], lr_scheduler_type="linear", seed=cfg["seed"], data_seed=cfg["seed"],
        max_length=cfg["max_length"], completion_only_loss=True, logging_steps=cfg["logging_steps"],
        eval_strategy="steps", eval_steps=cfg["eval_steps"], save_strategy="steps", save_steps=cfg["eval_steps"],
        save_total_limit=cfg["save_total_limit"], load_best_model_at_end=True,
        metric_for_best_model="val_accuracy", greater_is_better=True, report_to=report_to,
        use_cpu=not profile.needs_cuda and require_device(profile) == "cpu", dataloader_num_workers=0,
        disable_tqdm=False,
    )  # fmt: skip
    live = Live(LIVE_DIR, resume=resume is not None, dvcyaml=False, save_dvc_exp=False)
    trainer = ValAccuracyTrainer(
        model=model, args=args, processing_class=tokenizer, peft_config=peft_config,
        train_dataset=sft_dataset(tokenizer, train, template_kwargs),
        eval_dataset=sft_dataset(tokenizer, val_questions[:8], template_kwargs),
        callbacks=[DVCLiveCallback(live=live), MarkCompleteCheckpoints(),
                   EarlyStoppingCallback(early_stopping_patience=cfg["patience"])],
        val_questions=val_questions, val_shots=shots, template_kwargs=template_kwargs,
        generation=profile.generation, gen_batch_size=cfg["gen_batch_size"],
    )  # fmt: skip
    trainer.train(resume_from_checkpoint=resume)
    log.info("best val accuracy %s at %s", trainer.state.best_metric, trainer.state.best_model_checkpoint)

    shutil.rmtree(ADAPTER_DIR, ignore_errors=True)
    trainer.save_model(str(ADAPTER_DIR))  # the best adapter (load_best_model_at_end)
    tokenizer.save_pretrained(str(ADAPTER_DIR))
    GenerationConfig(**profile.generation, pad_token_id=tokenizer.pad_token_id,
                     eos_token_id=tokenizer.eos_token_id).save_pretrained(str(ADAPTER_DIR))  # fmt: skip
    shutil.rmtree(output_dir, ignore_errors=True)  # finished: nothing left to resume


if __name__ == "__main__":
    main()
