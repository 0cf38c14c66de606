"""Run the Unsloth training path for real on the tiny Qwen3 profile (needs a CUDA GPU and requirements-gpu.txt).

    python -m tests.gpu.unsloth_smoke [train.jsonl val.jsonl test.jsonl]

It uses the same functions as the train and evaluate stages (load_model, build_trainer, ask), with
`model=tiny-qwen3-unsloth`, a few steps, then asks test questions with and without the adapter. dvclive is
left out so that this runs where DVC is not installed. Prints timings, GPU memory and the metrics.
"""

import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import unsloth  # noqa: F401  (first, so it can patch transformers/TRL)

from strawberry.asking import ask, pick_shots, sample_per_task
from strawberry.eval_report import task_details
from strawberry.jsonl import read_jsonl
from strawberry.params import load_params
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs
from strawberry.training import build_trainer


def main() -> None:
    import torch

    files = sys.argv[1:] or ["data/splits/train.jsonl", "data/splits/val.jsonl", "data/splits/test.jsonl"]
    train, val, test = (read_jsonl(f) for f in files)
    params = load_params()
    params["model"] = "tiny-qwen3-unsloth"
    profile = load_profile(params)
    cfg = {**params["train"], "max_steps": 30, "eval_steps": 10, "batch_size": 8, "val_questions": 8}
    print(f"torch {torch.__version__}, CUDA {torch.cuda.get_device_name(0)}; unsloth {unsloth.__version__}")

    start = time.perf_counter()
    model, tokenizer = load_model(profile, for_training=True)
    print(f"loaded {type(model).__name__} through Unsloth in {time.perf_counter() - start:.1f} s")
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    shots = pick_shots(val, 1, 0)
    val_questions = sample_per_task(val, {"position": 8, "count": 8}, 0)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(profile, model, tokenizer, params["lora"], cfg, Path(tmp) / "ckpt", train[:2000],
                                val_questions, shots, kwargs, "cuda")  # fmt: skip
        start = time.perf_counter()
        result = trainer.train()
        print(f"trained {result.global_step} steps in {time.perf_counter() - start:.1f} s; "
              f"loss {result.training_loss:.3f}; best val accuracy {trainer.state.best_metric}; "
              f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")  # fmt: skip
        adapter = Path(tmp) / "adapter"
        trainer.save_model(str(adapter))
        tokenizer.save_pretrained(str(adapter))
        del trainer, model
        model, tokenizer = load_model(profile, adapter=str(adapter))
        print(f"reloaded base + adapter through Unsloth: {type(model).__name__}")
        questions = sample_per_task(test, 16, 0)
        rows = {}
        for arm in ("base", "tuned"):
            start = time.perf_counter()
            with model.disable_adapter() if arm == "base" else nullcontext():
                rows[(arm, 0)] = ask(model, tokenizer, questions, pick_shots(val, 0, 0), kwargs,
                                     profile.generation, 16, 0, arm)  # fmt: skip
            print(f"{arm}: {len(questions)} questions in {time.perf_counter() - start:.1f} s; "
                  f"first reply {rows[(arm, 0)][0]['reply']!r}")  # fmt: skip
    metrics = task_details(rows, questions, [0])
    for task, entry in metrics.items():
        print(task, {arm: round(entry["0shot"][arm]["accuracy"], 3) for arm in ("base", "tuned")},
              "format_rate", entry["0shot"]["tuned"]["format_rate"])  # fmt: skip


if __name__ == "__main__":
    main()
