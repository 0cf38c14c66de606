"""Rehearse the reference run at full size on a CUDA GPU: Qwen3-4B's architecture with random weights
(profile `qwen3-4b-arch`: same shapes, so the same cost), the real Qwen3 tokenizer, the project's own stage code.

    python -m tests.gpu.qwen3_4b_rehearsal train      # Unsloth vs plain PEFT + TRL: step time, tokens/s, memory
    python -m tests.gpu.qwen3_4b_rehearsal evaluate   # train -> evaluate_base -> evaluate stages, then q/s by batch
    python -m tests.gpu.qwen3_4b_rehearsal all        # both (about 15 minutes on an H100)

Needs requirements-gpu.txt and the data splits (`dvc repro split`, or --data DIR holding train/val/test.jsonl).
Training runs `stages.train.run` (the train stage without dvclive, so DVC need not be installed) once per
backend x precision, each in its own process: Unsloth patches transformers on import, so the plain-PEFT runs
must never see it. Evaluation runs `stages.evaluate_base.main` and `stages.evaluate.main` as they are, in a
scratch project directory holding a params.yaml with these overrides. Random weights rarely emit an end token,
so every reply runs to max_new_tokens: generation figures are an upper bound for the real model's.
Prints the figures and writes them as JSON (--out, default rehearsal.json or $OUT/rehearsal.json).
"""

import argparse
import gc
import importlib.metadata
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNS = {  # name -> (backend, load_in_4bit)
    "unsloth-4bit": ("unsloth", True),
    "peft-4bit": ("transformers", True),
    "unsloth-bf16": ("unsloth", False),
    "peft-bf16": ("transformers", False),
}
WARMUP_STEPS = 5  # left out of the step time: compilation, allocator growth
LIBRARIES = ("torch", "transformers", "trl", "peft", "accelerate", "unsloth", "unsloth_zoo", "bitsandbytes")


def versions() -> dict:
    import torch

    out = {name: _version(name) for name in LIBRARIES}
    if torch.cuda.is_available():
        out |= {"gpu": torch.cuda.get_device_name(0), "cuda": torch.version.cuda,
                "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)}  # fmt: skip
    return out


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def scratch_project(data: Path, overrides: dict, where: Path) -> Path:
    """A directory laid out like the project (params.yaml, data/splits, templates, benchmarks) for the stages."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    _merge(params, overrides)
    (where / "data" / "splits").mkdir(parents=True, exist_ok=True)
    for name in ("train", "val", "test"):
        shutil.copy(data / f"{name}.jsonl", where / "data" / "splits" / f"{name}.jsonl")
    for name in ("templates", "benchmarks"):
        shutil.copytree(ROOT / "data" / name, where / "data" / name, dirs_exist_ok=True)
    (where / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return where


def _merge(target: dict, overrides: dict) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def profile_overrides(profile: str, run: str | None = None, checkpointing: str | None = None) -> dict:
    """params.yaml overrides that make `profile` the model, with a run's backend, precision and gradient
    checkpointing ("unsloth", "true", "false"; None: the profile's own)."""
    out: dict = {"model": profile}
    if run:
        backend, four_bit = RUNS[run]
        out["profiles"] = {profile: {"backend": backend, "load_in_4bit": four_bit}}
        if checkpointing is not None:
            value = {"true": True, "false": False}.get(checkpointing, checkpointing)
            out["profiles"][profile]["gradient_checkpointing"] = value
    return out


def training_runs(runs: list[str], checkpointing: list[str] | None) -> list[tuple[str, str | None]]:
    """(run, checkpointing) pairs: each run with each setting its backend has (only Unsloth has "unsloth")."""
    if not checkpointing:
        return [(run, None) for run in runs]
    return [(run, gc) for run in runs for gc in checkpointing if gc != "unsloth" or RUNS[run][0] == "unsloth"]


def peak_memory() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {}
    return {"peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2)}  # fmt: skip


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


# ---- one training run, in its own process ----


def train_one(args: argparse.Namespace) -> None:
    backend, _ = RUNS[args.run]
    if backend == "unsloth":
        import unsloth  # noqa: F401  (first, so that it patches transformers and TRL)
    from transformers import TrainerCallback

    from stages import train as train_stage
    from strawberry.params import load_params

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []
            self.start = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            _sync()
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            _sync()
            self.times.append(time.perf_counter() - self.start)

    os.chdir(args.workdir)
    timer = StepTimer()
    start = time.perf_counter()
    trainer = train_stage.run(load_params(), log_to_dvclive=False, callbacks=[timer])
    total = time.perf_counter() - start
    timed = timer.times[WARMUP_STEPS:] or timer.times
    step = statistics.median(timed)
    tokens_per_step = trainer.state.num_input_tokens_seen / max(trainer.state.global_step, 1)
    model = trainer.model
    result = {
        "run": args.run, "steps": trainer.state.global_step, "step_time_s": round(step, 4),
        "step_time_mean_s": round(statistics.mean(timed), 4), "tokens_per_step": round(tokens_per_step, 1),
        "tokens_per_s": round(tokens_per_step / step, 1), "wall_s": round(total, 1),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "final_train_loss": train_stage.train_summary(trainer)["final_train_loss"],
        "param_dtype": str(next(p.dtype for p in model.parameters() if not p.requires_grad)),
        **peak_memory(), "versions": versions(),
    }  # fmt: skip
    Path(args.result).write_text(json.dumps(result))  # the process ends here: nothing to free


def compare_training(args: argparse.Namespace, data: Path, report: dict) -> list[dict]:
    """Each run in a fresh process on the same data, batch and sequence settings (params.yaml `train`); the
    report is rewritten after each run, so a run cut off keeps the ones before it."""
    results = report["training"] = []
    for run, checkpointing in training_runs(args.runs, args.checkpointing):
        with tempfile.TemporaryDirectory(prefix=f"rehearsal-{run}-") as tmp:
            overrides = profile_overrides(args.profile, run, checkpointing) | {"train": {
                "max_steps": args.steps, "eval_steps": args.steps, "logging_steps": 5, "val_questions": 16,
                "wandb": False, **({"batch_size": args.batch_size} if args.batch_size else {})}}  # fmt: skip
            workdir = scratch_project(data, overrides, Path(tmp))
            result_file = Path(tmp) / "result.json"
            print(f"\n=== training: {run}, checkpointing {checkpointing or 'default'}, {args.steps} steps ===",
                  flush=True)  # fmt: skip
            cmd = [sys.executable, "-m", "tests.gpu.qwen3_4b_rehearsal", "_train_one", "--run", run,
                   "--workdir", str(workdir), "--result", str(result_file)]  # fmt: skip
            path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            proc = subprocess.run(cmd, cwd=ROOT, env=os.environ | {"PYTHONPATH": path})
            if proc.returncode != 0 or not result_file.is_file():
                results.append({"run": run, "error": f"exit status {proc.returncode}"})
            else:
                results.append(json.loads(result_file.read_text()))
            results[-1] |= {"gradient_checkpointing": checkpointing or "default",
                            "batch_size": args.batch_size or report["train_settings"]["batch_size"]}  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
            args.out.write_text(json.dumps(report, indent=1))
    return results


# ---- the evaluate stages, then generation throughput by batch size ----


def evaluate_stages(args: argparse.Namespace, data: Path) -> dict:
    """train (a few steps, for an adapter) -> evaluate_base -> evaluate, the stages' own code, in one process
    with the profile's backend; then q/s of batched generation at the profile's decoding per batch size."""
    import torch

    if RUNS[args.eval_run][0] == "unsloth":
        import unsloth  # noqa: F401
    from stages import evaluate as evaluate_stage
    from stages import evaluate_base as evaluate_base_stage
    from stages import train as train_stage
    from strawberry.params import load_params

    out: dict = {"run": args.eval_run}
    tmp = Path(tempfile.mkdtemp(prefix="rehearsal-eval-"))
    overrides = profile_overrides(args.profile, args.eval_run) | {
        "train": {"max_steps": 10, "eval_steps": 10, "logging_steps": 5, "val_questions": 16, "wandb": False},
        "evaluate": {"questions_per_task": {"position": args.stage_questions, "count": args.stage_questions,
                                            "length": args.stage_questions // 4}},
    }  # fmt: skip
    os.chdir(scratch_project(data, overrides, tmp))
    params = load_params()
    for name, step in (("train", lambda: train_stage.run(params, log_to_dvclive=False)),
                       ("evaluate_base", evaluate_base_stage.main), ("evaluate", evaluate_stage.main)):  # fmt: skip
        print(f"\n=== stage {name} ({args.eval_run}) ===", flush=True)
        _reset_peak()
        start = time.perf_counter()
        step()
        out[f"{name}_wall_s"] = round(time.perf_counter() - start, 1)
        out[f"{name}_memory"] = peak_memory()
        gc.collect()
        torch.cuda.empty_cache() if torch.cuda.is_available() else None
    replies = sum(1 for _ in open("eval/base_predictions.jsonl"))
    out["replies_per_model"] = replies
    out["evaluate_replies_per_s"] = round(replies / out["evaluate_wall_s"], 2)
    out["eval_headline"] = json.loads(Path("metrics/eval.json").read_text())
    out["throughput"] = throughput_by_batch(params, args.batch_sizes, args.sweep_questions)
    out["versions"] = versions()
    return out


def throughput_by_batch(params: dict, batch_sizes: list[int], n_questions: int) -> list[dict]:
    """Questions/s of `ask` (the evaluation's batched generation) over the same 3-shot questions per batch size,
    at the profile's own decoding, base model loaded as evaluate_base loads it."""
    import torch

    from strawberry.asking import ask, pick_shots, sample_per_task
    from strawberry.jsonl import read_jsonl
    from strawberry.profiles import load_model, load_profile
    from strawberry.prompts import chat_template_kwargs

    profile = load_profile(params)
    model, tokenizer = load_model(profile)
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    val = read_jsonl("data/splits/val.jsonl")
    shots = pick_shots(val, 3, 0)
    half = n_questions // 2
    questions = sample_per_task(read_jsonl("data/splits/test.jsonl"), {"position": half, "count": half}, 0)
    ask(model, tokenizer, questions[:8], shots, kwargs, profile.generation, 8, 0, "warm-up")
    rows = []
    for batch_size in batch_sizes:
        _reset_peak()
        _sync()
        start = time.perf_counter()
        try:
            replies = ask(model, tokenizer, questions, shots, kwargs, profile.generation, batch_size, 0,
                          f"batch {batch_size}")  # fmt: skip
        except torch.OutOfMemoryError:
            rows.append({"batch_size": batch_size, "error": "out of memory"})
            torch.cuda.empty_cache()
            break
        _sync()
        seconds = time.perf_counter() - start
        new_tokens = sum(len(tokenizer(r["reply"], add_special_tokens=False)["input_ids"]) for r in replies)
        rows.append({"batch_size": batch_size, "questions": len(questions), "seconds": round(seconds, 2),
                     "questions_per_s": round(len(questions) / seconds, 2),
                     "reply_tokens_per_question": round(new_tokens / len(questions), 1), **peak_memory()})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["train", "evaluate", "all", "_train_one"])
    parser.add_argument("--profile", default="qwen3-4b-arch")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "splits")
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, help="train.batch_size for the training runs (default: params.yaml)")
    parser.add_argument("--checkpointing", nargs="+", choices=["unsloth", "true", "false"],
                        help="gradient checkpointing settings to compare per run (default: the profile's own)")
    parser.add_argument("--eval-run", choices=list(RUNS), default="unsloth-4bit", help="backend for evaluate")
    parser.add_argument("--stage-questions", type=int, default=32, help="evaluate's questions per task (position)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    parser.add_argument("--sweep-questions", type=int, default=512)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")) / "rehearsal.json")
    parser.add_argument("--run", choices=list(RUNS))
    parser.add_argument("--workdir")
    parser.add_argument("--result")
    args = parser.parse_args()
    if args.what == "_train_one":
        return train_one(args)

    from strawberry.profiles import base_model_path, load_profile

    start = time.perf_counter()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    path = base_model_path(load_profile({**params, "model": args.profile}))  # built once, outside the timings
    report: dict = {"profile": args.profile, "model_dir": path, "build_s": round(time.perf_counter() - start, 1),
                    "train_settings": {k: params["train"][k]
                                       for k in ("batch_size", "grad_accum", "max_length", "learning_rate")},
                    "lora": params["lora"], "steps": args.steps}  # fmt: skip
    if args.batch_size:
        report["train_settings"]["batch_size"] = args.batch_size
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.what in ("train", "all"):
        compare_training(args, args.data.resolve(), report)
    if args.what in ("evaluate", "all"):
        report["evaluation"] = evaluate_stages(args, args.data.resolve())
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    print(f"figures -> {args.out}")


if __name__ == "__main__":
    main()
