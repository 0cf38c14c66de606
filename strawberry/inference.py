"""Batched generation with left padding: the way both evaluate and train's validation ask questions.

k-shot prompts of one task share a long prefix (system prompt and the worked examples): its key/value cache is
computed once and reused by every batch, so only each question's own tokens are prefilled.
"""

import copy

import torch
from tqdm.auto import tqdm


def common_prefix_length(sequences: list[list[int]]) -> int:
    """Tokens shared by the start of every sequence, leaving each at least one token of its own."""
    shortest = min(len(s) for s in sequences)
    n = 0
    while n < shortest - 1 and all(s[n] == sequences[0][n] for s in sequences):
        n += 1
    return n


def generate_replies(model, tokenizer, prompts: list[str], generation: dict, batch_size: int, seed: int,
                     desc: str = "generating", share_prefix: bool = True) -> list[str]:  # fmt: skip
    """Replies to `prompts` (already chat-templated), in order. Prompts are batched by length to waste little
    padding, their common prefix is prefilled once; decoding follows `generation` (the profile's settings) with a
    fixed seed."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(seed)
    ids = tokenizer(prompts)["input_ids"]
    prefix_len = common_prefix_length(ids) if share_prefix and len(ids) > 1 else 0
    order = sorted(range(len(prompts)), key=lambda i: len(ids[i]))
    replies: list[str] = [""] * len(prompts)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        prefix_cache = None
        if prefix_len:
            prefix = torch.tensor([ids[0][:prefix_len]], device=model.device)
            prefix_cache = model(input_ids=prefix, use_cache=True).past_key_values
            if not hasattr(prefix_cache, "batch_repeat_interleave"):
                # Unsloth's fast path returns legacy (key, value) tuples (seen on a GPU with Qwen3-4B's shape):
                # nothing to share, so each batch prefills its whole prompts, as without the cache
                prefix_cache, prefix_len = None, 0
        for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch", leave=False):
            index = order[start : start + batch_size]
            input_ids, attention_mask = _pad_after_prefix([ids[i] for i in index], prefix_len, tokenizer.pad_token_id)
            kwargs = {}
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)  # generate appends to the cache it is given
                cache.batch_repeat_interleave(len(index))
                kwargs["past_key_values"] = cache
            out = model.generate(input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                                 **kwargs, **generation, pad_token_id=tokenizer.pad_token_id)  # fmt: skip
            texts = tokenizer.batch_decode(out[:, input_ids.shape[1] :], skip_special_tokens=True)
            for i, text in zip(index, texts):
                replies[i] = text
    model.train(was_training)
    return replies


def _pad_after_prefix(rows: list[list[int]], prefix_len: int, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[shared prefix | padding | own tokens]: left padding of each row's own part, so every row ends where its
    answer starts and the cached prefix keeps positions 0..prefix_len-1 (positions follow the attention mask)."""
    width = max(len(r) for r in rows) - prefix_len
    input_ids, mask = [], []
    for row in rows:
        own = row[prefix_len:]
        pad = width - len(own)
        input_ids.append(row[:prefix_len] + [pad_id] * pad + own)
        mask.append([1] * prefix_len + [0] * pad + [1] * len(own))
    return torch.tensor(input_ids), torch.tensor(mask)
