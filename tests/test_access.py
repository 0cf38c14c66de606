"""Who gets in, for real on localhost: a server started with API keys, a scrape token and a per-key rate limit
(SmolLM2, base model): 401 without or with a wrong key on every endpoint, 200 with a right one, 429 with
Retry-After for one key while another is served, 413 for big bodies before they are read, short echoes in 422,
chat usage equal to the tokenizer's counts, and the remote backend recovering from a real server that drops a
connection and answers 503 once."""

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from strawberry.serving.access import Access, load_api_keys, load_metrics_token
from strawberry.serving.launch import serving
from tests.conftest import ROOT
from tests.test_serving import PARAMS, REQUESTS, _value

PROFILE = "tiny-qwen3"  # access control and metrics need a server, not a model that answers well

KEYS = {name: f"{name}-key-{'x' * 20}" for name in ("endpoints", "burst", "other", "body", "chat", "remote", "wrong")}
SCRAPE_TOKEN = "scrape-token-" + "y" * 20
RATE_LIMIT = "5/minute"  # per key: long enough a window that a burst cannot outlast it
CHAT = {"model": "strawberry-base", "messages": [{"role": "user", "content": "How many r's are in 'berry'?"}]}
BODIES = {**REQUESTS, "/v1/chat/completions": CHAT}


def bearer(name: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[name]}"}


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secrets")
    served = [k for name, k in KEYS.items() if name != "wrong"]
    (folder / "api-keys").write_text("# one key per line\n" + "\n".join(served) + "\n")
    (folder / "metrics-token").write_text(SCRAPE_TOKEN + "\n")
    return folder


@pytest.fixture(scope="module")
def server(secrets_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("keyed") / "server.log"
    args = ["--profile", PROFILE, "--adapter", "none", "--api-keys-file", str(secrets_dir / "api-keys"),
            "--metrics-token-file", str(secrets_dir / "metrics-token"), "--rate-limit", RATE_LIMIT]  # fmt: skip
    with serving(args, log) as url:
        yield url, log


def metrics(url: str) -> str:
    r = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.text


def test_every_endpoint_needs_a_right_key(server):
    url, log = server
    refused_before = _value(metrics(url), 'strawberry_requests_total{endpoint="/count",status="401"}')
    for path, body in BODIES.items():
        body = {**body, "model": "base"} if path != "/v1/chat/completions" else body
        missing = requests.post(url + path, json=body, timeout=30)
        assert missing.status_code == 401 and "missing credential" in missing.json()["detail"], missing.text
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        wrong = requests.post(url + path, json=body, headers=bearer("wrong"), timeout=30)
        assert wrong.status_code == 401 and "wrong API key in the Authorization header" in wrong.text, wrong.text
        wrong = requests.post(url + path, json=body, headers={"X-API-Key": KEYS["wrong"]}, timeout=30)
        assert wrong.status_code == 401 and "X-API-Key header" in wrong.text, wrong.text
        basic = requests.post(url + path, json=body, headers={"Authorization": "Basic abc"}, timeout=30)
        assert basic.status_code == 401 and "Bearer <API key>" in basic.text, basic.text
        ok = requests.post(url + path, json=body, headers=bearer("endpoints"), timeout=120)
        assert ok.status_code == 200, ok.text
    assert requests.post(url + "/count", json={**REQUESTS["/count"], "model": "base"}, timeout=120,
                         headers={"X-API-Key": KEYS["other"]}).status_code == 200  # fmt: skip
    assert requests.get(url + "/health", timeout=10).status_code == 200  # probes carry no key
    assert requests.get(url + "/metrics", timeout=10).status_code == 401
    api_key = requests.get(url + "/metrics", headers=bearer("endpoints"), timeout=10)
    assert api_key.status_code == 401 and "wrong scrape token" in api_key.text  # /metrics has its own credential
    after = metrics(url)
    assert _value(after, 'strawberry_requests_total{endpoint="/count",status="401"}') == refused_before + 4
    text = log.read_text()
    assert "API keys on: 6 key(s)" in text and "rate limit per key 5/minute" in text
    assert not any(key in text for key in KEYS.values()), "a key was logged"


def test_a_burst_over_the_limit_gets_429_while_another_key_is_served(server):
    url, _ = server
    before = _value(metrics(url), 'strawberry_requests_total{endpoint="/spell",status="429"}')
    ask = {"word": "kayak", "model": "base"}
    with ThreadPoolExecutor(8) as pool:
        burst = list(pool.map(lambda _: requests.post(url + "/spell", json=ask, headers=bearer("burst"), timeout=120),
                              range(8)))  # fmt: skip
    assert sorted(r.status_code for r in burst) == [200] * 5 + [429] * 3, [r.text for r in burst]
    for r in burst:
        if r.status_code == 429:
            assert 1 <= int(r.headers["Retry-After"]) <= 60 and "rate limit 5 per 1 minute" in r.text, r.text
    assert requests.post(url + "/spell", json=ask, headers=bearer("other"), timeout=120).status_code == 200
    assert requests.post(url + "/spell", json=ask, headers=bearer("burst"), timeout=30).status_code == 429
    after = _value(metrics(url), 'strawberry_requests_total{endpoint="/spell",status="429"}')
    assert after == before + 4


def test_big_bodies_are_refused_before_they_are_read(server):
    url, _ = server
    start = time.monotonic()
    big = requests.post(url + "/spell", json={"word": "a" * 1_000_000}, headers=bearer("body"), timeout=30)
    assert big.status_code == 413 and time.monotonic() - start < 1, big.text
    assert "limit is 4096 bytes" in big.json()["detail"]

    def chunks():  # no Content-Length: the cap is counted while reading
        yield b'{"word": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    chunked = requests.post(url + "/spell", data=chunks(), timeout=30,
                            headers={**bearer("body"), "Content-Type": "application/json"})  # fmt: skip
    assert chunked.status_code == 413, chunked.text
    long_word = requests.post(url + "/spell", json={"word": "b" * 3000}, headers=bearer("body"), timeout=30)
    assert long_word.status_code == 422 and "limit is 40" in long_word.text
    assert len(long_word.content) < 600, long_word.text  # the 3,000 letters are not echoed back
    (error,) = long_word.json()["detail"]
    assert error["input"].startswith("b" * 40) and error["input"].endswith("(3000 characters)")


def test_chat_usage_is_the_tokenizers_count(server):
    from strawberry.profiles import load_model, load_profile
    from strawberry.prompts import chat_template_kwargs, render_prompt

    url, _ = server
    r = requests.post(url + "/v1/chat/completions", json=CHAT, headers=bearer("chat"), timeout=120)
    assert r.status_code == 200, r.text
    out = r.json()
    profile = load_profile({**PARAMS, "model": PROFILE})
    _, tokenizer = load_model(profile)
    record = {"instruction": CHAT["messages"][0]["content"], "input": ""}
    prompt = render_prompt(tokenizer, record, (), chat_template_kwargs(tokenizer, profile.chat_template_kwargs))
    reply = out["choices"][0]["message"]["content"]
    usage = out["usage"]
    assert usage["prompt_tokens"] == len(tokenizer(prompt, add_special_tokens=False)["input_ids"]) > 10
    assert usage["completion_tokens"] == len(tokenizer(reply, add_special_tokens=False)["input_ids"]) > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


class FlakyProxy(ThreadingHTTPServer):
    """A real HTTP server in front of the keyed API's chat endpoint that, for its first requests, drops the
    connection without answering and then answers 503 (`failures`, in order); afterwards it forwards."""

    def __init__(self, upstream: str, failures: list[str]):
        self.upstream, self.failures, self.seen = upstream, list(failures), 0
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class ProxyHandler(BaseHTTPRequestHandler):
    server: FlakyProxy

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen += 1
        failure = self.server.failures.pop(0) if self.server.failures else None
        if failure == "drop":
            self.close_connection = True
            self.connection.shutdown(2)  # the client sees the connection closed with no response
            return
        if failure == "503":
            status, data = 503, b'{"detail": "busy"}'
        else:
            headers = {"Authorization": self.headers["Authorization"], "Content-Type": "application/json"}
            r = requests.post(self.server.upstream + self.path.removeprefix("/v1"), data=body, headers=headers,
                              timeout=120)  # fmt: skip
            status, data = r.status_code, r.content
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


def test_remote_backend_recovers_from_a_dropped_connection(server):
    from strawberry.profiles import load_profile
    from strawberry.serving.backends import RETRIES, ModelError, RemoteBackend
    from strawberry.serving.questions import question

    url, _ = server
    profile = load_profile({**PARAMS, "model": PROFILE})
    record = question("count", "kayak", letter="k")
    direct = RemoteBackend(profile, url + "/v1", "strawberry-base", "strawberry-tuned", api_key=KEYS["remote"])
    expected = direct.replies([record], ["base"])[0]
    for failures, seen in ((["drop", "503"], 3), (["drop"] * (RETRIES + 1), RETRIES + 1)):
        proxy = FlakyProxy(url + "/v1", failures)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            backend = RemoteBackend(profile, proxy.url, "strawberry-base", "strawberry-tuned", api_key=KEYS["remote"])
            if seen <= RETRIES:
                assert backend.replies([record], ["base"])[0] == expected  # the same answer, after two failures
            else:
                with pytest.raises(ModelError, match="remote model server"):
                    backend.replies([record], ["base"])  # bounded: gives up after RETRIES retries
            assert proxy.seen == seen
        finally:
            proxy.shutdown()
            proxy.server_close()


def test_keys_and_limits_are_checked_at_start_up(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# comment\n\n" + "k" * 20 + "\nshort\n")
    with pytest.raises(ValueError, match=rf"{keys}:4: an API key must be at least 16 characters"):
        load_api_keys(str(keys), {})
    keys.write_text("# only a comment\n")
    with pytest.raises(ValueError, match="no API key in it"):
        load_api_keys(str(keys), {})
    with pytest.raises(ValueError, match="no such API key file"):
        load_api_keys(str(tmp_path / "absent"), {})
    env = {"STRAWBERRY_API_KEYS": "a" * 16 + ", " + "b" * 16}
    assert load_api_keys(None, env) == ("a" * 16, "b" * 16)
    with pytest.raises(ValueError, match=r"\$STRAWBERRY_API_KEYS \(key 2\)"):
        load_api_keys(None, {"STRAWBERRY_API_KEYS": "a" * 16 + ",tiny"})
    assert load_metrics_token(None, {}) is None
    with pytest.raises(ValueError, match="not a rate limit"):
        Access(api_keys=("a" * 16,), rate_limit="ten per second")
    assert "API keys OFF" in Access().summary() and "no rate limit" in Access().summary()
    assert "short" not in str(Access(api_keys=("s" * 16,)).summary())


def test_the_server_refuses_to_start_on_a_bad_key_file(tmp_path):
    bad = tmp_path / "keys"
    bad.write_text("tooshort\n")
    result = subprocess.run([sys.executable, "-m", "scripts.serve", "--api-keys-file", str(bad)], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert result.returncode != 0 and f"{bad}:1: an API key must be" in result.stderr
    assert "tooshort" not in result.stderr
