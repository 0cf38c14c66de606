"""Batched generation with left padding: the way both evaluate and train's validation ask questions."""

import torch
from tqdm.auto import tqdm


def generate_replies(model, tokenizer, prompts: list[str], generation: dict, batch_size: int, seed: int,
                     desc: str = "generating") -> list[str]:  # fmt: skip
    """Replies to `prompts` (already chat-templated), in order. Prompts are batched by length to waste
    little padding; decoding follows `generation` (the profile's settings) with a fixed seed."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(seed)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    replies: list[str] = [""] * len(prompts)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch", leave=False):
            index = order[start : start + batch_size]
            batch = tokenizer([prompts[i] for i in index], return_tensors="pt", padding=True).to(model.device)
            out = model.generate(**batch, **generation, pad_token_id=tokenizer.pad_token_id)
            texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
            for i, text in zip(index, texts):
                replies[i] = text
    model.train(was_training)
    return replies
