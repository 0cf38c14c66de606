"""Who may call the API, and how much: API keys, a scrape token for /metrics, per-key rate limits and a cap on
request bodies, checked by one ASGI middleware before any route reads a byte of the body. /health stays open
(probes carry no key).

Keys come from a file (one per line, `#` comments) and/or the environment (`STRAWBERRY_API_KEYS`, comma-separated);
a request presents one as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Keys are compared in constant time
(as SHA-256 digests, so their lengths do not leak either) and are never logged: a key is named by its digest's
first 8 hex digits. Rate limits count per key, in this HTTP process (the server runs one), with the `limits`
library's moving window."""

import hashlib
import hmac
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

API_KEYS_ENV = "STRAWBERRY_API_KEYS"
METRICS_TOKEN_ENV = "STRAWBERRY_METRICS_TOKEN"
MIN_KEY_LENGTH = 16
OPEN_PATHS = ("/health",)
ECHO_LIMIT = 40  # characters of a bad input a 422 repeats back
NEW_KEY_HINT = "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def key_id(key: str) -> str:
    """A key's name in logs and limits: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _checked(key: str, where: str) -> str:
    if len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
        raise ValueError(f"{where}: an API key must be at least {MIN_KEY_LENGTH} characters without spaces "
                         f"(this one, {key_id(key)}, is not); {NEW_KEY_HINT}")  # fmt: skip
    return key


def read_secret_lines(path: str | Path, what: str) -> list[str]:
    """The non-empty, non-comment lines of a key or token file, each checked; the file must name at least one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such {what} file")
    values = [_checked(line.strip(), f"{path}:{n}") for n, line in enumerate(path.read_text().splitlines(), 1)
              if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    if not values:
        raise ValueError(f"{path}: no {what} in it (one per line); {NEW_KEY_HINT}")
    return values


def load_api_keys(keys_file: str | None, environ: dict = os.environ) -> tuple[str, ...]:
    """The keys of `keys_file` and of $STRAWBERRY_API_KEYS together; none means the API is open."""
    keys = read_secret_lines(keys_file, "API key") if keys_file else []
    env = [k.strip() for k in environ.get(API_KEYS_ENV, "").split(",") if k.strip()]
    keys += [_checked(k, f"${API_KEYS_ENV} (key {i})") for i, k in enumerate(env, 1)]
    return tuple(dict.fromkeys(keys))


def load_metrics_token(token_file: str | None, environ: dict = os.environ) -> str | None:
    if token_file:
        return read_secret_lines(token_file, "scrape token")[0]
    token = environ.get(METRICS_TOKEN_ENV, "").strip()
    return _checked(token, f"${METRICS_TOKEN_ENV}") if token else None


@dataclass(frozen=True)
class Access:
    """The server's access rules. No API keys: every endpoint is open and unlimited (local use)."""

    api_keys: tuple[str, ...] = ()
    metrics_token: str | None = None  # /metrics's own credential; None: the API keys (or open, without keys)
    rate_limit: str | None = "10/second;300/minute"  # per key, in the `limits` library's notation
    max_body_bytes: int = 4096

    def __post_init__(self):
        if self.rate_limit:
            from limits import parse_many

            try:
                parse_many(self.rate_limit)
            except ValueError as e:
                raise ValueError(f"--rate-limit {self.rate_limit!r}: not a rate limit like '10/second;300/minute'"
                                 ) from e  # fmt: skip

    def summary(self) -> str:
        """The start-up line: loud when the API is open."""
        if not self.api_keys:
            return ("API keys OFF: every endpoint answers anyone who can reach this port, with no rate limit "
                    f"(local use only; set --api-keys-file or ${API_KEYS_ENV})")  # fmt: skip
        metrics = "its scrape token" if self.metrics_token else "an API key"
        ids = ", ".join(key_id(k) for k in self.api_keys)
        limit = self.rate_limit or "none"
        return (f"API keys on: {len(self.api_keys)} key(s) [{ids}]; rate limit per key {limit}; /metrics needs "
                f"{metrics}; bodies over {self.max_body_bytes} bytes refused")  # fmt: skip


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def presented_credential(headers: dict[str, str]) -> tuple[str | None, str]:
    """(the credential a request presents, the header it came in); (None, why) when there is none."""
    if "authorization" in headers:
        scheme, _, value = headers["authorization"].partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, "the Authorization header must be 'Bearer <key>'"
        return value.strip(), "Authorization"
    if "x-api-key" in headers:
        return headers["x-api-key"].strip(), "X-API-Key"
    return None, "missing credential: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"


class AccessMiddleware:
    """ASGI middleware enforcing an `Access`: 401 without a right credential, 413 for a body over the cap (read
    from Content-Length before the body, or counted while reading one without it), 429 with Retry-After over a
    key's rate limit."""

    def __init__(self, app, access: Access):
        from limits import parse_many
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.app, self.access = app, access
        self.keys = {_digest(k): key_id(k) for k in access.api_keys}
        self.metrics_keys = {_digest(access.metrics_token): "metrics"} if access.metrics_token else self.keys
        self.limits = parse_many(access.rate_limit) if access.rate_limit and access.api_keys else []
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        is_metrics = scope["path"] == "/metrics" or scope["path"].startswith("/metrics/")
        allowed = self.metrics_keys if is_metrics else self.keys
        who = None
        if allowed:
            who, why = self._authenticate(headers, allowed, "scrape token" if self.access.metrics_token and
                                          is_metrics else "API key")  # fmt: skip
            if who is None:
                return await _refuse(send, 401, why, {"www-authenticate": "Bearer"})
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.access.max_body_bytes:
            return await _refuse(send, 413, self._too_large(f"{int(declared)} bytes"))
        body = await _read_body(receive, self.access.max_body_bytes)
        if body is None:
            return await _refuse(send, 413, self._too_large("more"))
        if who is not None and not is_metrics and (wait := self._over_limit(who)) is not None:
            limit, seconds = wait
            return await _refuse(send, 429, f"rate limit {limit} for API key {who}: retry after {seconds} s",
                                 {"retry-after": str(seconds)})  # fmt: skip
        return await self.app(scope, _replay(body, receive), send)

    def _authenticate(self, headers: dict, allowed: dict[bytes, str], what: str) -> tuple[str | None, str]:
        value, where = presented_credential(headers)
        if value is None:
            return None, where.replace("<key>", f"<{what}>")
        digest, match = _digest(value), None
        for known, name in allowed.items():  # every comparison runs: no early exit to time
            if hmac.compare_digest(known, digest):
                match = name
        return match, f"wrong {what} in the {where} header"

    def _too_large(self, size: str) -> str:
        return f"request body is {size}; the limit is {self.access.max_body_bytes} bytes (one question per request)"

    def _over_limit(self, who: str) -> tuple[str, int] | None:
        """(the limit, seconds to wait) when `who` has used up a limit; otherwise counts this request."""
        for limit in self.limits:
            if not self.limiter.test(limit, who):
                reset = self.limiter.get_window_stats(limit, who).reset_time
                return str(limit), max(1, math.ceil(reset - time.time()))
        for limit in self.limits:
            self.limiter.hit(limit, who)
        return None


async def _read_body(receive, cap: int) -> bytes | None:
    """The whole request body, or None as soon as it passes `cap` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away; the app sees an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def short_input(value):
    """A bad input as a 422 repeats it: at most ECHO_LIMIT characters, so a huge field is not sent back whole."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) <= ECHO_LIMIT:
        return value
    return text[:ECHO_LIMIT] + f"… ({len(text)} characters)"


async def validation_error(request, exc):
    """FastAPI's 422 (the errors naming each field), with each echoed input cut short."""
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    errors = [{**e, "input": short_input(e["input"])} if "input" in e else e for e in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})
