"""Where replies come from: the profile's model in this process (base, or base + the tuned LoRA adapter), or a
remote OpenAI-compatible server (vLLM serving Qwen/Qwen3-4B with the adapter through --enable-lora)."""

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import NamedTuple

import urllib3
from urllib3.util import Retry

from strawberry.cards import base_model_id
from strawberry.inference import generate_replies
from strawberry.precision import autocast
from strawberry.profiles import Profile, load_model, run_precision
from strawberry.prompts import chat_messages, chat_template_kwargs, render_prompt


class ModelError(RuntimeError):
    """The model (or the remote server) failed to answer: the API turns it into a 503."""


class Reply(NamedTuple):
    """A model's reply and its usage: tokens of the rendered prompt and of the reply, by the model's tokenizer."""

    text: str
    prompt_tokens: int
    completion_tokens: int


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

    def replies(self, records: list[dict], models: list[str]) -> list[Reply]:
        """One reply per record, in order; `models` says "base" or "tuned" per record, and each kind is generated
        as one batch."""
        out: list[Reply] = [Reply("", 0, 0)] * len(records)
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
            counts = self.tokenizer(prompts + texts, add_special_tokens=False)["input_ids"]
            for n, (i, text) in enumerate(zip(index, texts)):
                out[i] = Reply(text, len(counts[n]), len(counts[len(prompts) + n]))
        return out


RETRIES = 3  # per request, on a refused or dropped connection and on 502/503
RETRY_STATUS = (502, 503)


class RemoteBackend:
    """An OpenAI-compatible chat-completions server. It is sent the same chat turns render_prompt renders, with
    thinking switched off (vLLM's chat_template_kwargs) and the profile's decoding. One pool of kept-alive
    connections serves every request; a dropped connection or a 502/503 is retried with backoff (asking again is
    safe: a reply has no side effects), a timeout is not."""

    def __init__(self, profile: Profile, url: str, base_name: str, tuned_name: str, timeout: float = 60,
                 api_key: str | None = None, pool_size: int = 16):  # fmt: skip
        self.url = url.rstrip("/") + "/chat/completions"
        self.names = {"base": base_name, "tuned": tuned_name}
        self.timeout = timeout
        self.generation = profile.generation
        self.headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {api_key}"} if api_key
                                                                else {})  # fmt: skip
        retry = Retry(total=RETRIES, connect=RETRIES, read=RETRIES, status=RETRIES, other=0,
                      allowed_methods=None, status_forcelist=RETRY_STATUS, backoff_factor=0.2,
                      respect_retry_after_header=True, raise_on_status=False)  # fmt: skip
        self.pool = urllib3.PoolManager(maxsize=pool_size, retries=retry,
                                        timeout=urllib3.Timeout(connect=min(10.0, timeout), read=timeout))  # fmt: skip
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

    def _ask(self, record: dict, model: str) -> Reply:
        try:
            response = self.pool.request("POST", self.url, body=json.dumps(self._body(record, model)),
                                         headers=self.headers)  # fmt: skip
            if response.status != 200:
                raise ModelError(f"remote model server {self.url}: HTTP {response.status}: "
                                 f"{response.data[:200].decode(errors='replace')}")  # fmt: skip
            data = json.loads(response.data)
            reply = data["choices"][0]["message"]["content"] or ""
        except (urllib3.exceptions.HTTPError, KeyError, IndexError, TypeError, ValueError) as e:
            raise ModelError(f"remote model server {self.url}: {e}") from e
        usage = data.get("usage") or {}
        return Reply(reply, usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)

    def replies(self, records: list[dict], models: list[str]) -> list[Reply]:
        """Sent concurrently: the remote server batches them itself."""
        with ThreadPoolExecutor(max_workers=max(1, len(records))) as pool:
            return list(pool.map(self._ask, records, models))
