"""Batched generation: the shared-prefix cache gives the replies plain left-padded batches give."""

import json

import pytest
import yaml

from strawberry.inference import _pad_after_prefix, common_prefix_length, generate_replies
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs, render_prompt
from tests.conftest import ROOT

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
WORDS = ["aardvark", "bookkeeper", "mississippi", "zymurgy", "quizzically", "strawberries", "onomatopoeia", "kayak",
         "rhythm", "syzygy", "abracadabra"]  # fmt: skip


def test_common_prefix_and_padding():
    assert common_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]]) == 2
    assert common_prefix_length([[1, 2], [1, 2]]) == 1  # each row keeps a token of its own
    ids, mask = _pad_after_prefix([[1, 2, 3, 4], [1, 2, 5]], 2, 0)
    assert ids.tolist() == [[1, 2, 3, 4], [1, 2, 0, 5]] and mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 1]]


@pytest.mark.parametrize("profile_name", ["tiny-qwen3", "smollm2-135m"])
def test_shared_prefix_gives_the_same_replies(profile_name):
    profile = load_profile({**PARAMS, "model": profile_name})
    model, tokenizer = load_model(profile)
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    shots = [{"instruction": f"What is the 1st letter of '{w}'? Answer with the letter only.", "input": "",
              "output": w[0]} for w in ("banana", "apple", "kiwi")]  # fmt: skip
    questions = [{"instruction": f"What is the 1st letter of '{w}'? Answer with the letter only.", "input": ""}
                 for w in WORDS]  # fmt: skip
    prompts = [render_prompt(tokenizer, q, shots, kwargs) for q in questions]
    generation = {"do_sample": False, "max_new_tokens": 8}
    plain = generate_replies(model, tokenizer, prompts, generation, 4, 0, share_prefix=False)
    shared = generate_replies(model, tokenizer, prompts, generation, 4, 0, share_prefix=True)
    assert shared == plain
    if profile_name == "smollm2-135m":  # a real model: the replies depend on the question, not only on the prefix
        assert len(set(plain)) > 1


class LegacyCacheModel:
    """A real model whose forward hands back (key, value) tuples instead of a Cache object, as Unsloth's fast
    Qwen3 path does (seen on a GPU at Qwen3-4B's shape: the shared prefix crashed train's val evaluation)."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def __call__(self, **kwargs):
        out = self.model(**kwargs)
        out.past_key_values = tuple((layer.keys, layer.values) for layer in out.past_key_values.layers)
        return out


def test_legacy_tuple_cache_falls_back_to_whole_prompts():
    profile = load_profile({**PARAMS, "model": "smollm2-135m"})
    model, tokenizer = load_model(profile)
    shots = [{"instruction": f"Spell '{w}'.", "input": "", "output": " ".join(w)} for w in ("banana", "kiwi")]
    prompts = [render_prompt(tokenizer, {"instruction": f"Spell '{w}'.", "input": ""}, shots, {}) for w in WORDS]
    generation = {"do_sample": False, "max_new_tokens": 6}
    plain = generate_replies(model, tokenizer, prompts, generation, 4, 0, share_prefix=False)
    assert generate_replies(LegacyCacheModel(model), tokenizer, prompts, generation, 4, 0) == plain


def test_row_stops_end_each_row_at_its_answer_line_or_its_own_limit():
    """The worked mode's stop: a row that completed an "Answer: x" line, or reached its own token limit, is done;
    a row still spelling, or whose answer line is not finished, goes on (the real Qwen3 tokenizer's tokens)."""
    import torch

    from strawberry.inference import RowStops
    from strawberry.tokenizer import load_hf_tokenizer

    tokenizer = load_hf_tokenizer(PARAMS["tokenizer"])
    prompt = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    replies = ["1: a\n2: d\nAnswer: d\n", "1: a\n2: d\nAnswer: d", "1: a\n2: d\n3: d\n", "1: a\n2: d\nAnswer:\n"]
    rows = [prompt + tokenizer(r, add_special_tokens=False)["input_ids"] for r in replies]
    width = max(len(r) for r in rows)
    ids = torch.tensor([r + [tokenizer.eos_token_id] * (width - len(r)) for r in rows])[:, : len(rows[2])]
    generated = ids.shape[1] - len(prompt)
    stops = RowStops(tokenizer, len(prompt), [99, 99, 99, 99], "Answer:")
    assert stops(ids, None).tolist() == [True, False, False, False]
    at_limit = RowStops(tokenizer, len(prompt), [99, 99, generated, 99], "Answer:")
    assert at_limit(ids, None).tolist() == [True, False, True, False]


def test_reply_cache_resumes_finished_batches_of_the_same_model_only(tmp_path, monkeypatch):
    """A run cut off after some batches resumes there: its finished batches are read back, not generated again
    (a reply planted in the cache comes back), a torn last line is ignored, and other LoRA weights or other
    settings miss the cache."""
    from peft import LoraConfig, get_peft_model

    from strawberry.reply_cache import REPLY_CACHE

    profile = load_profile({**PARAMS, "model": "smollm2-135m"})
    model, tokenizer = load_model(profile)
    prompts = [render_prompt(tokenizer, {"instruction": f"Spell '{w}'.", "input": ""}, [], {}) for w in WORDS]
    greedy = {"do_sample": False, "max_new_tokens": 6}
    fresh = generate_replies(model, tokenizer, prompts, greedy, 4, 0)
    monkeypatch.setenv(REPLY_CACHE, str(tmp_path))
    assert generate_replies(model, tokenizer, prompts, greedy, 4, 0) == fresh  # first run: writes 3 batches
    (cache_file,) = tmp_path.glob("*.jsonl")
    entries = [json.loads(line) for line in cache_file.read_text().splitlines()]
    assert len(entries) == 3
    entries[0]["replies"] = ["PLANTED"] * len(entries[0]["replies"])
    cache_file.write_text("".join(json.dumps(e) + "\n" for e in entries) + '{"key": "torn')
    resumed = generate_replies(model, tokenizer, prompts, greedy, 4, 0)
    assert resumed.count("PLANTED") == len(entries[0]["replies"])
    assert [r for r in resumed if r != "PLANTED"] == [f for f, r in zip(fresh, resumed) if r != "PLANTED"]
    assert generate_replies(model, tokenizer, prompts, {**greedy, "max_new_tokens": 5}, 4, 0).count("PLANTED") == 0
    tuned = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False))
    assert generate_replies(tuned, tokenizer, prompts, greedy, 4, 0).count("PLANTED") == 0
    merged = tuned.merge_and_unload()  # no LoRA weights left: the sampled base weights tell it from base
    assert generate_replies(merged, tokenizer, prompts, greedy, 4, 0).count("PLANTED") == 0
    assert len(list(tmp_path.glob("*.jsonl"))) == 3  # one file per model: base, the adapter, the merged model
