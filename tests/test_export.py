"""The merged export loads with transformers alone and answers exactly as base + adapter (greedy)."""

import json

import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer

from scripts.export import main as export_main
from strawberry.inference import generate_replies
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import render_prompt
from strawberry.serving.questions import question
from tests.conftest import ROOT
from tests.test_serving import PROFILE, make_adapter

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def test_merged_model_answers_like_base_plus_adapter(tmp_path):
    adapter = make_adapter(tmp_path / "adapter")
    out = tmp_path / "merged"
    export_main(["--adapter", str(adapter), "--out", str(out), "--profile", PROFILE])
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
    assert not list(tmp_path.glob("*.tmp"))
    merged = AutoModelForCausalLM.from_pretrained(out)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    assert json.loads((out / "generation_config.json").read_text())["max_new_tokens"] == 16

    tuned, tokenizer = load_model(load_profile({**PARAMS, "model": PROFILE}), adapter=str(adapter))
    records = [question("position", w, position=2) for w in ("strawberry", "kayak", "rhythm")]
    records += [question("count", w, letter="r") for w in ("strawberry", "mirror")]
    prompts = [render_prompt(tokenizer, r) for r in records]
    generation = {"do_sample": False, "max_new_tokens": 8}
    expected = generate_replies(tuned, tokenizer, prompts, generation, 8, 0)
    got = generate_replies(merged, AutoTokenizer.from_pretrained(out), prompts, generation, 8, 0)
    assert got == expected
    with tuned.disable_adapter():  # and the adapter matters: base answers differently somewhere
        assert generate_replies(tuned, tokenizer, prompts, generation, 8, 0) != expected
