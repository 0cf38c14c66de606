"""Batched generation with left padding: the way both evaluate and train's validation ask questions.

k-shot prompts of one task share a long prefix (system prompt and the worked examples): its key/value cache is
computed once and reused by every batch, so only each question's own tokens are prefilled.
"""

import copy

import torch
from tqdm.auto import tqdm
from transformers import StoppingCriteria, StoppingCriteriaList

from strawberry.reply_cache import ReplyCache


class RowStops(StoppingCriteria):
    """Stops each row of a batch on its own: at its own token limit, or once it has completed a line that starts
    with `stop_line` (a worked reply's "Answer: x"), so that a long batch does not decode what nobody reads."""

    def __init__(self, tokenizer, prompt_width: int, limits: list[int], stop_line: str | None):
        self.tokenizer, self.prompt_width, self.stop_line = tokenizer, prompt_width, stop_line
        self.limits = torch.tensor(limits)

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        generated = input_ids[:, self.prompt_width :]
        done = (generated.shape[1] >= self.limits).to(input_ids.device)
        if self.stop_line and generated.shape[1]:
            # the last few tokens hold a whole short "Answer: x" line and the newline that ends it
            tails = self.tokenizer.batch_decode(generated[:, -12:], skip_special_tokens=True)
            done |= torch.tensor([_completed_line(t, self.stop_line) for t in tails], device=input_ids.device)
        return done


def _completed_line(text: str, start: str) -> bool:
    lines = text.split("\n")
    return any(line.strip().lower().startswith(start.lower()) and line.strip() != start for line in lines[:-1])


def common_prefix_length(sequences: list[list[int]]) -> int:
    """Tokens shared by the start of every sequence, leaving each at least one token of its own."""
    shortest = min(len(s) for s in sequences)
    n = 0
    while n < shortest - 1 and all(s[n] == sequences[0][n] for s in sequences):
        n += 1
    return n


def generate_replies(model, tokenizer, prompts: list[str], generation: dict, batch_size: int, seed: int,
                     desc: str = "generating", share_prefix: bool = True, limits: list[int] | None = None,
                     stop_line: str | None = None) -> list[str]:  # fmt: skip
    """Replies to `prompts` (already chat-templated), in order. Prompts are batched by length to waste little
    padding, their common prefix is prefilled once; decoding follows `generation` (the profile's settings) with a
    fixed seed. `limits` (tokens per prompt, for long replies such as worked ones) batches prompts by their limit
    instead and stops each row at its own, or when it completed a line starting with `stop_line`. With
    $STRAWBERRY_REPLY_CACHE set, greedy batches finished before (by a run that was cut off) are read back."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(seed)
    ids = tokenizer(prompts)["input_ids"]
    prefix_len = common_prefix_length(ids) if share_prefix and len(ids) > 1 else 0
    if limits is None:
        order = sorted(range(len(prompts)), key=lambda i: len(ids[i]))
    else:  # rows of a batch end about together: batched by their own reply limit
        order = sorted(range(len(prompts)), key=lambda i: (limits[i], len(ids[i])))
    replies: list[str] = [""] * len(prompts)
    finished = ReplyCache.from_env(model, generation)  # None unless $STRAWBERRY_REPLY_CACHE is set
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
            batch = [ids[i] for i in index]
            row_limits = [limits[i] for i in index] if limits is not None else None
            key = finished and ReplyCache.key(batch, prefix_len, generation, row_limits, stop_line)
            if key and (texts := finished.get(key)) is not None:
                for i, text in zip(index, texts):
                    replies[i] = text
                continue
            input_ids, attention_mask = _pad_after_prefix(batch, prefix_len, tokenizer.pad_token_id)
            kwargs = {}
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)  # generate appends to the cache it is given
                cache.batch_repeat_interleave(len(index))
                kwargs["past_key_values"] = cache
            if row_limits is not None:
                stops = RowStops(tokenizer, input_ids.shape[1], row_limits, stop_line)
                kwargs |= {"stopping_criteria": StoppingCriteriaList([stops]), "max_new_tokens": max(row_limits)}
            out = model.generate(input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                                 **{**generation, **kwargs}, pad_token_id=tokenizer.pad_token_id)  # fmt: skip
            texts = tokenizer.batch_decode(out[:, input_ids.shape[1] :], skip_special_tokens=True)
            for i, text in zip(index, texts):
                replies[i] = text
            if key:
                finished.put(key, texts)
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
