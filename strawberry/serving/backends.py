"""Where replies come from: the profile's model in this process (base, or base + the tuned LoRA adapter), or a
remote OpenAI-compatible server (vLLM serving Qwen/Qwen3-4B with the adapter through --enable-lora)."""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import requests

from strawberry.cards import base_model_id
from strawberry.inference import generate_replies
from strawberry.precision import autocast
from strawberry.profiles import Profile, load_model, run_precision
from strawberry.prompts import chat_messages, chat_template_kwargs, render_prompt


class ModelError(RuntimeError):
    """The model (or the remote server) failed to answer: the API turns it into a 503."""


def identity(profile: Profile, backend: str) -> dict:
    """Which model answers: the profile, its base model (as the model card names it), local or remote."""
    return {"profile": profile.name, "base_model": base_model_id(profile), "backend": backend}


def adapter_identity(adapter: str | None) -> dict:
    """The adapter's path and a short hash of its weights, so a reply says exactly which adapter wrote it."""
    if not adapter:
        return {"adapter": None}
    weights = Path(adapter) / "adapter_model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12] if weights.is_file() else None
    return {"adapter": str(adapter), "adapter_sha256": digest}


class LocalBackend:
    """The profile's model in this process; base answers come from the same weights with the adapter disabled."""

    def __init__(self, profile: Profile, adapter: str | None, threads: int | None = None):
        if threads:
            import torch

            torch.set_num_threads(threads)  # each endpoint's process gets its share of the cores
        self.model, self.tokenizer = load_model(profile, adapter=adapter)
        self.precision = run_precision(profile)  # the evaluation's: the API answers as evaluate does
        self.has_adapter = adapter is not None
        self.template_kwargs = chat_template_kwargs(self.tokenizer, profile.chat_template_kwargs)
        self.generation = profile.generation
        self.identity = {**identity(profile, "local"), **adapter_identity(adapter), "precision": self.precision}

    def replies(self, records: list[dict], models: list[str]) -> list[tuple[str, int]]:
        """(reply, generated tokens) per record, in order; `models` says "base" or "tuned" per record, and each
        kind is generated as one batch."""
        out: list[tuple[str, int]] = [("", 0)] * len(records)
        for name in ("base", "tuned"):
            index = [i for i, m in enumerate(models) if m == name]
            if not index:
                continue
            prompts = [render_prompt(self.tokenizer, records[i], (), self.template_kwargs) for i in index]
            adapter_off = self.model.disable_adapter() if name == "base" and self.has_adapter else nullcontext()
            try:
                with adapter_off, autocast(self.precision):
                    texts = generate_replies(self.model, self.tokenizer, prompts, self.generation, len(prompts), 0)
            except Exception as e:  # noqa: BLE001 - any failure of the model is the server's 503
                raise ModelError(f"{type(e).__name__}: {e}") from e
            for i, text in zip(index, texts):
                out[i] = (text, len(self.tokenizer(text, add_special_tokens=False)["input_ids"]))
        return out


class RemoteBackend:
    """An OpenAI-compatible chat-completions server. It is sent the same chat turns render_prompt renders, with
    thinking switched off (vLLM's chat_template_kwargs) and the profile's decoding."""

    def __init__(self, profile: Profile, url: str, base_name: str, tuned_name: str, timeout: float = 60):
        self.url = url.rstrip("/") + "/chat/completions"
        self.names = {"base": base_name, "tuned": tuned_name}
        self.timeout = timeout
        self.generation = profile.generation
        self.identity = {**identity(profile, "remote"), "remote_url": url, "remote_models": self.names}

    def _body(self, record: dict, model: str) -> dict:
        g = self.generation
        body = {"model": self.names[model], "messages": chat_messages(record), "max_tokens": g["max_new_tokens"],
                "chat_template_kwargs": {"enable_thinking": False}}  # fmt: skip
        if g.get("do_sample"):
            body |= {k: g[k] for k in ("temperature", "top_p", "top_k", "min_p") if k in g}
        else:
            body["temperature"] = 0.0
        return body

    def _ask(self, record: dict, model: str) -> tuple[str, int]:
        try:
            response = requests.post(self.url, json=self._body(record, model), timeout=self.timeout)
            response.raise_for_status()
            data = response.json()
            reply = data["choices"][0]["message"]["content"] or ""
        except (requests.RequestException, KeyError, IndexError, ValueError) as e:
            raise ModelError(f"remote model server {self.url}: {e}") from e
        return reply, (data.get("usage") or {}).get("completion_tokens") or 0

    def replies(self, records: list[dict], models: list[str]) -> list[tuple[str, int]]:
        """Sent concurrently: the remote server batches them itself."""
        with ThreadPoolExecutor(max_workers=max(1, len(records))) as pool:
            return list(pool.map(self._ask, records, models))
