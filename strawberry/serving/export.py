"""Export the tuned model as one merged safetensors model (LoRA folded into the base weights), which vLLM,
transformers or llama.cpp's converter load without PEFT."""

import shutil
from pathlib import Path

from strawberry.profiles import Profile, load_model


def export_merged(profile: Profile, adapter: str, out: Path) -> Path:
    """Base + adapter merged (`merge_and_unload`) and saved with the tokenizer and the profile's generation
    settings; written to a temporary folder first, so `out` is either complete or absent."""
    from transformers import GenerationConfig

    if profile.backend != "transformers" or profile.load_in_4bit:
        raise ValueError(f"profile {profile.name}: export merges full-precision weights with the transformers "
                         "backend; for Qwen3-4B use a transformers profile without load_in_4bit")  # fmt: skip
    model, tokenizer = load_model(profile, adapter=adapter)
    merged = model.merge_and_unload()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    GenerationConfig(**profile.generation, pad_token_id=tokenizer.pad_token_id,
                     eos_token_id=tokenizer.eos_token_id).save_pretrained(tmp)  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out
