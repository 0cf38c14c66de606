import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from strawberry.profiles import GpuRequiredError, base_model_path, load_profile, require_device
from strawberry.prompts import ThinkingModeError, chat_template_kwargs, render_prompt
from strawberry.tokenizer import QWEN3, load_hf_tokenizer
from strawberry.training import sft_dataset
from tests.conftest import ROOT, copy_project, run, set_params

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
RECORD = {"instruction": "How many times does the letter 'r' appear in 'aardvark'? Answer with a number only.",
          "input": "", "output": "2", "meta": {"task": "count"}}  # fmt: skip
SHOT = {"instruction": "What is the 1st letter of the word 'zymurgy'? Answer with the letter only.", "input": "",
        "output": "z", "meta": {"task": "position"}}  # fmt: skip


@pytest.fixture(scope="module")
def qwen3():
    return load_hf_tokenizer(QWEN3)


def test_qwen3_prompt_is_non_thinking(qwen3):
    prompt = render_prompt(qwen3, RECORD, [SHOT], chat_template_kwargs(qwen3))
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")  # the empty think block = thinking off
    assert prompt.count("<|im_start|>user") == 2 and "<|im_start|>assistant\nz<|im_end|>" in prompt
    assert chat_template_kwargs(qwen3) == {"enable_thinking": False}


@pytest.mark.parametrize("value", [True, "yes", 1, None])
def test_thinking_is_refused(qwen3, value):
    with pytest.raises(ThinkingModeError, match="non-thinking mode only"):
        render_prompt(qwen3, RECORD, (), {"enable_thinking": value})


def test_profile_asking_for_thinking_is_refused():
    thinking = {**PARAMS["profiles"]["qwen3-4b"], "chat_template_kwargs": {"enable_thinking": True}}
    params = {**PARAMS, "model": "qwen3-4b", "profiles": {**PARAMS["profiles"], "qwen3-4b": thinking}}
    with pytest.raises(ThinkingModeError):
        load_profile(params)


def test_unknown_profile_and_key():
    with pytest.raises(KeyError, match="is not a profile; profiles: smollm2-135m"):
        load_profile({**PARAMS, "model": "gpt-5"})
    bad = {**PARAMS, "profiles": {"x": {**PARAMS["profiles"]["tiny-qwen3"], "temprature": 0.6}}, "model": "x"}
    with pytest.raises(ValueError, match="profiles.x: .*temprature"):
        load_profile(bad)


def _with(profile: str, **keys) -> dict:
    profiles = {**PARAMS["profiles"], profile: {**PARAMS["profiles"][profile], **keys}}
    return {**PARAMS, "model": profile, "profiles": profiles}


def test_gradient_checkpointing_defaults_per_backend_and_refuses_what_the_backend_lacks():
    """Unsloth's own checkpointing (which offloads to CPU memory) by default on its backend, plain elsewhere;
    an H200 measured PEFT 4-bit 1.57x faster without it (docs/cloud.md), so a profile can turn it off."""
    assert load_profile(_with("qwen3-4b")).gradient_checkpointing == "unsloth"
    assert load_profile(_with("qwen3-4b-peft")).gradient_checkpointing is True
    assert load_profile(_with("qwen3-4b", gradient_checkpointing=False)).gradient_checkpointing is False
    with pytest.raises(ValueError, match="profiles.qwen3-4b-peft.gradient_checkpointing='unsloth'"):
        load_profile(_with("qwen3-4b-peft", gradient_checkpointing="unsloth"))
    with pytest.raises(ValueError, match="gradient_checkpointing='off'"):
        load_profile(_with("qwen3-4b", gradient_checkpointing="off"))


def test_rehearsal_compares_each_checkpointing_setting_its_backend_has():
    from tests.gpu.qwen3_4b_rehearsal import profile_overrides, training_runs

    assert training_runs(["unsloth-4bit", "peft-4bit"], ["unsloth", "false"]) == [
        ("unsloth-4bit", "unsloth"), ("unsloth-4bit", "false"), ("peft-4bit", "false")]
    assert training_runs(["peft-4bit"], None) == [("peft-4bit", None)]
    overrides = profile_overrides("qwen3-4b-arch", "peft-4bit", "false")["profiles"]["qwen3-4b-arch"]
    assert overrides == {"backend": "transformers", "load_in_4bit": True, "gradient_checkpointing": False}


def test_training_and_evaluation_prompts_are_identical(qwen3):
    """TRL trains on the same text (and tokens) that evaluation asks with."""
    kwargs = chat_template_kwargs(qwen3)
    dataset = sft_dataset(qwen3, [RECORD], kwargs)
    assert dataset[0]["prompt"] == render_prompt(qwen3, RECORD, (), kwargs)
    assert dataset[0]["completion"] == "2"
    prompt_ids = qwen3(dataset[0]["prompt"])["input_ids"]
    full_ids = qwen3(dataset[0]["prompt"] + "2<|im_end|>")["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids  # completion-only loss masks exactly the prompt


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the CPU-only refusal")
def test_gpu_profile_on_cpu_fails_clearly():
    profile = load_profile({**PARAMS, "model": "qwen3-4b"})
    with pytest.raises(GpuRequiredError, match="needs a CUDA GPU and this machine has none"):
        require_device(profile)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the CPU-only refusal")
@pytest.mark.parametrize("stage", ["train", "evaluate"])
def test_gpu_profile_stage_stops_before_loading(tmp_path, stage):
    repo = copy_project(tmp_path)
    set_params(repo, {"model": "qwen3-4b"})
    start = time.monotonic()
    proc = run([sys.executable, "-m", f"stages.{stage}"], repo, check=False)
    assert proc.returncode != 0
    assert "GpuRequiredError: profile 'qwen3-4b' (backend unsloth) needs a CUDA GPU" in proc.stderr
    assert "unsloth" not in proc.stderr.split("GpuRequiredError")[0].lower().replace("backend unsloth", "")
    assert time.monotonic() - start < 60


def test_tiny_profile_builds_a_qwen3_once(tmp_path, monkeypatch):
    monkeypatch.setattr("strawberry.profiles.CACHE", tmp_path)
    profile = load_profile({**PARAMS, "model": "tiny-qwen3"})
    path = Path(base_model_path(profile))
    config = yaml.safe_load((path / "config.json").read_text())
    assert config["model_type"] == "qwen3" and config["num_hidden_layers"] == 2
    assert (path / "tokenizer.json").is_file()
    mtime = (path / "config.json").stat().st_mtime
    assert base_model_path(profile) == str(path) and (path / "config.json").stat().st_mtime == mtime
    assert not list(tmp_path.glob("models/*.tmp"))


def test_qwen3_4b_architecture_has_the_published_size(qwen3):
    """The rehearsal profile is Qwen3-4B's shape: built on the meta device (no memory), it has the model card's
    4.0B parameters, 3.6B of them outside the (tied) embedding, and Qwen3-4B's special token ids."""
    import torch
    from transformers import Qwen3ForCausalLM

    from strawberry.profiles import random_config

    profile = load_profile({**PARAMS, "model": "qwen3-4b-arch"})
    config = random_config(profile, qwen3)
    assert (config.vocab_size, config.eos_token_id, config.pad_token_id) == (151936, 151645, 151643)
    assert config.tie_word_embeddings and config.head_dim * config.num_attention_heads == 4096
    with torch.device("meta"):
        model = Qwen3ForCausalLM(config)
    total = sum(p.numel() for p in model.parameters())
    embedding = model.get_input_embeddings().weight.numel()
    assert model.lm_head.weight is model.get_input_embeddings().weight
    assert total == 4_022_468_096 and round((total - embedding) / 1e9, 1) == 3.6
    assert profile.generation == PARAMS["profiles"]["qwen3-4b"]["generation"]
    assert profile.chat_template_kwargs == {"enable_thinking": False}


def test_no_unsloth_import_on_cpu():
    out = subprocess.run([sys.executable, "-c", "import sys, strawberry.profiles, stages.train, stages.evaluate;"
                          "print('unsloth' in sys.modules)"], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert out.stdout.strip() == "False", out.stderr
