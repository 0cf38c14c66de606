"""The LitServe server: POST /spell, /position and /count (typed JSON, batched), an OpenAI-compatible
/v1/chat/completions, /health, and /metrics for Prometheus; API keys, rate limits and body caps in front
(strawberry.serving.access)."""

import os
from dataclasses import dataclass, replace

import litserve as ls
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError

from strawberry.profiles import Profile
from strawberry.serving import requests
from strawberry.serving.access import Access, AccessMiddleware, validation_error
from strawberry.serving.backends import LocalBackend, ModelError, RemoteBackend, Reply
from strawberry.serving.metrics import MetricsMiddleware, metric, metrics_app
from strawberry.serving.questions import answer_of, expected_answer, question


@dataclass(frozen=True)
class ServeConfig:
    profile: Profile
    adapter: str | None = "models/adapter"  # None: base model only
    remote_url: str | None = None  # an OpenAI-compatible server to ask instead of loading the model here
    remote_base_model: str = "strawberry-base"
    remote_tuned_model: str = "strawberry-tuned"
    remote_api_key: str | None = None  # sent to the remote server (vLLM's --api-key, or this server's own keys)
    max_batch_size: int = 16
    batch_timeout: float = 0.05  # seconds a batch waits to fill
    timeout: float = 120  # seconds a request may wait for its answer before a 504
    chat: bool = True  # serve /v1/chat/completions too
    threads_per_worker: int | None = None  # torch CPU threads per model process (None: the cores shared out)
    access: Access = Access()  # no API keys: open (local use)

    @property
    def serves_tuned(self) -> bool:
        return bool(self.adapter or self.remote_url)

    def backend(self) -> LocalBackend | RemoteBackend:
        if self.remote_url:
            return RemoteBackend(self.profile, self.remote_url, self.remote_base_model, self.remote_tuned_model,
                                 api_key=self.remote_api_key)  # fmt: skip
        return LocalBackend(self.profile, self.adapter, self.threads_per_worker)


def ask_backend(backend: LocalBackend | RemoteBackend, endpoint: str, records: list[dict], models: list[str]
                ) -> list[Reply]:  # fmt: skip
    """One reply per record, as one batch; counts the batch and the generated tokens, and turns a model failure
    into a 503 (the server stays up)."""
    metric("batch").labels(endpoint).observe(len(records))
    try:
        replies = backend.replies(records, models)
    except ModelError as e:
        raise HTTPException(503, detail=f"the model failed to answer: {e}") from e
    for model, reply in zip(models, replies):
        metric("tokens").labels(endpoint, model).inc(reply.completion_tokens)
    return replies


class TaskAPI(ls.LitAPI):
    """One question type. decode_request's annotation is the request schema: FastAPI checks it before a request is
    queued, so a bad request is answered 422 and never spoils a batch."""

    task = ""
    path = ""

    def __init__(self, config: ServeConfig):
        super().__init__(max_batch_size=config.max_batch_size, batch_timeout=config.batch_timeout, api_path=self.path)
        self.config = config

    def setup(self, device) -> None:
        self.backend = self.config.backend()

    def to_item(self, request: requests.TaskRequest) -> dict:
        """The question a validated request asks (its position or letter, where the task has one)."""
        extra = request.model_dump(include={"position", "letter"})
        return {"record": question(self.task, request.word, **extra), "model": request.model}

    def batch(self, inputs: list[dict]) -> list[dict]:
        return list(inputs)

    def predict(self, items: list[dict] | dict) -> list[dict] | dict:
        if isinstance(items, dict):  # --max-batch-size 1: LitServe passes one request, unbatched
            return self.answer([items])[0]
        return self.answer(items)

    def answer(self, items: list[dict]) -> list[dict]:
        replies = ask_backend(self.backend, self.path, [i["record"] for i in items], [i["model"] for i in items])
        out = []
        for item, reply in zip(items, replies):
            answer = answer_of(item["record"], reply.text)
            if answer is None:
                metric("unparseable").labels(self.path, item["model"]).inc()
            out.append({**item, "reply": reply.text, "answer": answer})
        return out

    def unbatch(self, output: list[dict]) -> list[dict]:
        return output

    def encode_response(self, output: dict) -> dict:
        record, expected = output["record"], expected_answer(output["record"])
        meta = {k: v for k, v in record["meta"].items() if k in ("word", "position", "letter")}
        return {
            "task": record["meta"]["task"], **meta, "answer": output["answer"], "reply": output["reply"],
            "expected": expected, "correct": output["answer"] == expected, "model": output["model"],
            "model_identity": self.backend.identity, "decoding": self.config.profile.generation,
            "prompt": record["instruction"], "template": record["meta"]["template"],
        }  # fmt: skip


class SpellAPI(TaskAPI):
    task, path = "spelling", "/spell"

    def decode_request(self, request: requests.SpellRequest) -> dict:  # the annotation is what FastAPI validates
        return self.to_item(request)


class PositionAPI(TaskAPI):
    task, path = "position", "/position"

    def decode_request(self, request: requests.PositionRequest) -> dict:  # the annotation is what FastAPI validates
        return self.to_item(request)


class CountAPI(TaskAPI):
    task, path = "count", "/count"

    def decode_request(self, request: requests.CountRequest) -> dict:  # the annotation is what FastAPI validates
        return self.to_item(request)


class ChatAPI(ls.LitAPI):
    """OpenAI-compatible chat completions on the same model: `model` "strawberry-base" or "strawberry-tuned";
    the profile's decoding, non-thinking only. The served model for the remote-backend path's tests."""

    MODELS = {"strawberry-base": "base", "base": "base", "strawberry-tuned": "tuned", "tuned": "tuned"}

    def __init__(self, config: ServeConfig):
        super().__init__(spec=ls.OpenAISpec(), api_path="/v1/chat/completions")
        self.config = config

    def setup(self, device) -> None:
        self.backend = self.config.backend()

    def predict(self, request, context):
        model = self.MODELS.get(context.get("model") or "strawberry-tuned")
        if model is None:
            raise HTTPException(404, detail=f"model {context.get('model')!r}: serve one of {', '.join(self.MODELS)}")
        if model == "tuned" and not self.config.serves_tuned:
            raise HTTPException(400, detail="model: this server has no tuned adapter loaded; ask strawberry-base")
        if context.get("reasoning_effort") or any("/think" in str(m.content) for m in request.messages):
            raise HTTPException(400, detail=requests.THINKING_REFUSED)
        record = _record_from_messages(request.messages)
        (reply,) = ask_backend(self.backend, "/v1/chat/completions", [record], [model])
        usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                 "total_tokens": reply.prompt_tokens + reply.completion_tokens}  # LitServe adds up none of these
        yield {"role": "assistant", "content": reply.text, **usage}


def _record_from_messages(messages) -> dict:
    """Chat turns -> the Alpaca record + shots shape render_prompt takes (the last user turn is the question)."""
    turns = [(m.role, m.content if isinstance(m.content, str) else " ".join(c.text for c in m.content))
             for m in messages]  # fmt: skip
    if not turns or turns[-1][0] != "user" or any(role not in ("user", "assistant") for role, _ in turns):
        raise HTTPException(400, detail="messages: user/assistant turns ending with a user turn (no system turn)")
    if len(turns) > 1:
        raise HTTPException(400, detail="messages: one user turn (worked examples are not supported here)")
    return {"instruction": turns[-1][1], "input": ""}


def build_server(config: ServeConfig) -> ls.LitServer:
    """The server for a profile from load_profile (which has already refused any thinking profile)."""
    requests.TUNED_AVAILABLE = config.serves_tuned
    workers = 4 if config.chat else 3  # one model process per endpoint
    if config.threads_per_worker is None:  # oversubscribed CPU threads made serving 6x slower (docs/api.md)
        config = replace(config, threads_per_worker=max(1, (os.cpu_count() or 1) // workers))
    apis: list[ls.LitAPI] = [SpellAPI(config), PositionAPI(config), CountAPI(config)]
    if config.chat:
        apis.append(ChatAPI(config))
    accelerator = "cpu" if config.remote_url else "auto"
    # Starlette runs the last-added middleware first: metrics see every answer, the access checks' 401/413/429 too
    middlewares = [(AccessMiddleware, {"access": config.access}), MetricsMiddleware]
    # restart_workers: a worker that dies (the OOM killer) is replaced and the server keeps answering; /health says
    # 503 until the new one is ready. Without it LitServe shuts the whole server down half-way (docs/deployment.md).
    server = ls.LitServer(apis, accelerator=accelerator, timeout=config.timeout, healthcheck_path="/health",
                          middlewares=middlewares, restart_workers=True)  # fmt: skip
    server.app.add_exception_handler(RequestValidationError, validation_error)
    server.app.mount("/metrics", metrics_app())
    return server
