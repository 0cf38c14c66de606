"""CPU precision: fp32 against bf16 autocast, in one run on the same data (a script, not a test).

    .venv/bin/python -m tests.perf.cpu_precision [profile] [n_questions] [train_steps]

Prints, for the profile's model (default qwen25-coder-05b):
- evaluation questions/s, 0-shot and 3-shot, prefix cache on, at evaluate.batch_size: fp32 vs autocast;
- the share of identical greedy replies and parsed answers, and each precision's accuracy with its Wilson interval;
- LoRA training tokens/s (forward + backward + AdamW step, batches of train.batch_size spelling records): fp32 vs
  autocast.
Goals (issue #18): >= 1.4x training, >= 1.8x evaluation, >= 97% identical answers, accuracies within each other's
interval. Autocast is forced on for the comparison even where the CPU lacks native bf16 (it then runs emulated and
slow: `precision: auto` would pick fp32 there).
"""

import random
import sys
import time

import torch
from peft import LoraConfig, get_peft_model

from strawberry.asking import ask, pick_shots, sample_per_task
from strawberry.jsonl import read_jsonl
from strawberry.params import load_params
from strawberry.precision import autocast, cpu_has_native_bf16
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs
from strawberry.scoring import accuracy
from strawberry.training import sft_dataset

PRECISIONS = ("fp32", "bf16-autocast")


def evaluation(model, tokenizer, kwargs: dict, generation: dict, n: int, batch_size: int) -> None:
    questions = sample_per_task(read_jsonl("data/splits/test.jsonl"), {"position": n // 2, "count": n - n // 2}, 0)
    val = read_jsonl("data/splits/val.jsonl")
    speed, answers, replies = {}, {p: [] for p in PRECISIONS}, {p: [] for p in PRECISIONS}
    for shots in (0, 3):
        examples = pick_shots(val, shots, 0)
        for precision in PRECISIONS:
            label = f"{shots}-shot {precision}"
            with autocast(precision):
                ask(model, tokenizer, questions[:batch_size], examples, kwargs, generation, batch_size, 0, "warm-up")
                start = time.perf_counter()
                rows = ask(model, tokenizer, questions, examples, kwargs, generation, batch_size, 0, label)
                speed[(shots, precision)] = len(questions) / (time.perf_counter() - start)
            replies[precision] += [r["reply"] for r in rows]
            answers[precision] += rows
            acc = accuracy(rows)
            print(f"evaluation {label}: {speed[(shots, precision)]:.2f} questions/s; accuracy {acc['accuracy']:.3f} "
                  f"[{acc['ci_low']:.3f}, {acc['ci_high']:.3f}] (n {acc['n']})", flush=True)  # fmt: skip
        print(f"evaluation {shots}-shot speed-up autocast / fp32: "
              f"{speed[(shots, 'bf16-autocast')] / speed[(shots, 'fp32')]:.2f}x", flush=True)  # fmt: skip
    a, b = answers.values()
    same_answer = sum(x["lenient"] == y["lenient"] for x, y in zip(a, b)) / len(a)
    same_reply = sum(x == y for x, y in zip(*replies.values())) / len(a)
    print(f"identical parsed answers: {same_answer:.1%}; identical replies: {same_reply:.1%} "
          f"(of {len(a)} replies: {len(questions)} questions x 0- and 3-shot)")  # fmt: skip
    for precision in PRECISIONS:
        acc = accuracy(answers[precision])
        print(f"accuracy over all {len(a)} replies, {precision}: {acc['accuracy']:.3f} "
              f"[{acc['ci_low']:.3f}, {acc['ci_high']:.3f}]")  # fmt: skip


def training(model, tokenizer, kwargs: dict, params: dict, steps: int) -> None:
    cfg, lora = params["train"], params["lora"]
    config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                        target_modules=lora["target_modules"], task_type="CAUSAL_LM")  # fmt: skip
    model = get_peft_model(model, config)
    model.train()
    data = sft_dataset(tokenizer, read_jsonl("data/splits/train.jsonl")[:4000], kwargs)
    ids = [tokenizer(p + c + tokenizer.eos_token)["input_ids"] for p, c in zip(data["prompt"], data["completion"])]
    order = random.Random(cfg["seed"]).sample(range(len(ids)), (steps + 1) * cfg["batch_size"])
    plan = [order[i : i + cfg["batch_size"]] for i in range(0, len(order), cfg["batch_size"])]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    speed = {}
    for precision in PRECISIONS:
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg["learning_rate"])
        tokens, seconds = 0, 0.0
        for step, batch in enumerate(plan):  # the first batch warms up and is not timed
            width = max(len(ids[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                mask[row, : len(ids[i])] = 1
            start = time.perf_counter()
            with autocast(precision):
                loss = model(input_ids=input_ids, attention_mask=mask,
                             labels=input_ids.masked_fill(mask == 0, -100)).loss  # fmt: skip
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if step:
                tokens, seconds = tokens + int(mask.sum()), seconds + time.perf_counter() - start
        speed[precision] = tokens / seconds
        dtypes = {p.dtype for p in model.parameters() if p.requires_grad}
        print(f"training {precision}: {speed[precision]:.0f} tokens/s over {steps} steps of {cfg['batch_size']} "
              f"({seconds / steps:.2f} s/step); LoRA weights {dtypes}", flush=True)  # fmt: skip
    print(f"training speed-up autocast / fp32: {speed['bf16-autocast'] / speed['fp32']:.2f}x")


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "qwen25-coder-05b"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    params = load_params()
    profile = load_profile({**params, "model": name})
    print(f"profile {name}; CPU has native bf16: {cpu_has_native_bf16()}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads", flush=True)  # fmt: skip
    model, tokenizer = load_model(profile)
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    generation = {**profile.generation, "do_sample": False}
    evaluation(model, tokenizer, kwargs, generation, n, params["evaluate"]["batch_size"])
    training(model, tokenizer, kwargs, params, steps)


if __name__ == "__main__":
    main()
