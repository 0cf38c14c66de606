"""Training throughput: real tokens per second and padding share per batch (a script, not a test).

    .venv/bin/python -m tests.perf.train_throughput [profile] [n_batches]

Compares, on the same spelling records and the same model, the naive batching that pads every sequence to
`train.max_length` with the trainer's batching (pad to the longest sequence of each batch, TRL's collator),
timing forward + backward of the LoRA model on each.
"""

import random
import sys
import time

import torch
from peft import LoraConfig, get_peft_model

from strawberry.jsonl import read_jsonl
from strawberry.params import load_params
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs
from strawberry.training import sft_dataset


def batches(lengths: list[int], batch_size: int, n: int, seed: int) -> list[list[int]]:
    order = list(range(len(lengths)))
    random.Random(seed).shuffle(order)
    return [order[i : i + batch_size] for i in range(0, n * batch_size, batch_size)]


def run(model, ids: list[list[int]], batch: list[int], pad_to: int | None, pad_id: int) -> tuple[int, int, float]:
    """Forward + backward on one batch; returns (real tokens, padded tokens, seconds)."""
    width = pad_to or max(len(ids[i]) for i in batch)
    input_ids = torch.full((len(batch), width), pad_id)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, i in enumerate(batch):
        seq = ids[i][:width]
        input_ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    start = time.perf_counter()
    out = model(input_ids=input_ids, attention_mask=mask, labels=input_ids.masked_fill(mask == 0, -100))
    out.loss.backward()
    model.zero_grad()
    return int(mask.sum()), mask.numel(), time.perf_counter() - start


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "smollm2-135m"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    params = load_params()
    profile = load_profile({**params, "model": name})
    cfg, lora = params["train"], params["lora"]
    model, tokenizer = load_model(profile)
    config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], target_modules=lora["target_modules"],
                        task_type="CAUSAL_LM")  # fmt: skip
    model = get_peft_model(model, config)
    data = sft_dataset(tokenizer, read_jsonl("data/splits/train.jsonl")[:4000],
                       chat_template_kwargs(tokenizer, profile.chat_template_kwargs))  # fmt: skip
    ids = [tokenizer(p + c + tokenizer.eos_token)["input_ids"] for p, c in zip(data["prompt"], data["completion"])]
    lengths = [len(x) for x in ids]
    print(f"{len(ids)} spelling examples: {min(lengths)}-{max(lengths)} tokens, mean {sum(lengths) / len(ids):.1f}; "
          f"max_length {cfg['max_length']}, batch size {cfg['batch_size']}")  # fmt: skip
    plan = batches(lengths, cfg["batch_size"], n, cfg["seed"])
    results = {}
    for label, pad_to in (("naive: pad to max_length", cfg["max_length"]), ("trainer: pad to longest", None)):
        run(model, ids, plan[0], pad_to, tokenizer.pad_token_id or 0)  # warm-up
        real = padded = seconds = 0
        for batch in plan:
            r, p, s = run(model, ids, batch, pad_to, tokenizer.pad_token_id or 0)
            real, padded, seconds = real + r, padded + p, seconds + s
        results[label] = real / seconds
        print(f"{label}: {real / seconds:.0f} real tokens/s, padding {1 - real / padded:.0%} of each batch")
    naive, trainer = results.values()
    print(f"profile {name}: speed-up in real tokens/s, trainer / naive: {trainer / naive:.1f}x")


if __name__ == "__main__":
    main()
