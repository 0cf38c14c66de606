"""The LitServe server for real on localhost (SmolLM2 + a LoRA adapter): every endpoint base and tuned, each bad
request's 4xx, batching, a model failure's 503, /metrics, and the remote (OpenAI-compatible) backend asked
through a second real server."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml

from strawberry.serving.launch import free_port, serving
from tests.conftest import ROOT

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
PROFILE = "smollm2-135m"


def make_adapter(path: Path) -> Path:
    """A real LoRA adapter on the local model with random (not zero) B matrices, so tuned answers differ from base
    without a training run."""
    import torch
    from peft import LoraConfig, get_peft_model

    from strawberry.profiles import load_model, load_profile

    model, tokenizer = load_model(load_profile({**PARAMS, "model": PROFILE}))
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False,
                        task_type="CAUSAL_LM")  # fmt: skip
    get_peft_model(model, config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def serve(*args: str, log: Path):
    return serving(["--profile", PROFILE, *args], log)


@pytest.fixture(scope="module")
def adapter(tmp_path_factory) -> Path:
    return make_adapter(tmp_path_factory.mktemp("adapter") / "adapter")


@pytest.fixture(scope="module")
def server(adapter, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "server.log"
    with serve("--adapter", str(adapter), "--max-batch-size", "8", "--batch-timeout", "0.2", log=log) as url:
        yield url


REQUESTS = {
    "/spell": {"word": "strawberry"},
    "/position": {"word": "strawberry", "position": 3},
    "/count": {"word": "strawberry", "letter": "r"},
}
EXPECTED = {"/spell": "strawberry", "/position": "r", "/count": "3"}


def test_every_endpoint_base_and_tuned(server, adapter):
    replies = {}
    for path, body in REQUESTS.items():
        for model in ("base", "tuned"):
            r = requests.post(server + path, json={**body, "model": model}, timeout=120)
            assert r.status_code == 200, r.text
            out = r.json()
            assert out["model"] == model and out["expected"] == EXPECTED[path]
            assert out["decoding"] == PARAMS["profiles"][PROFILE]["generation"]
            assert out["model_identity"]["profile"] == PROFILE
            identity = out["model_identity"]
            assert identity["adapter"] == str(adapter) and len(identity["adapter_sha256"]) == 12
            assert "'strawberry'" in out["prompt"] and isinstance(out["reply"], str)
            replies[(path, model)] = out["reply"]
    assert any(replies[(p, "base")] != replies[(p, "tuned")] for p in REQUESTS), "the adapter changed nothing"


def test_served_reply_is_the_evaluation_path(server):
    """The server asks exactly what evaluation asks: render_prompt + generate_replies on the same question."""
    from strawberry.inference import generate_replies
    from strawberry.precision import autocast
    from strawberry.profiles import load_model, load_profile, run_precision
    from strawberry.prompts import chat_template_kwargs, render_prompt
    from strawberry.serving.questions import question

    profile = load_profile({**PARAMS, "model": PROFILE})
    model, tokenizer = load_model(profile)
    prompt = render_prompt(tokenizer, question("count", "strawberry", letter="r"), (),
                           chat_template_kwargs(tokenizer, profile.chat_template_kwargs))  # fmt: skip
    with autocast(run_precision(profile)):
        local = generate_replies(model, tokenizer, [prompt], profile.generation, 1, 0)[0]
    served = requests.post(server + "/count", json={**REQUESTS["/count"], "model": "base"}, timeout=120).json()
    assert served["reply"] == local


BAD = [  # path, body, field the message must name, words it must contain
    ("/position", {"position": 2}, "word", "missing"),
    ("/spell", {"word": "straw berry"}, "word", "letters"),
    ("/spell", {"word": "abc1"}, "word", "letters"),
    ("/spell", {"word": "a" * 41}, "word", "limit is 40"),
    ("/position", {"word": "kayak", "position": 6}, "position", "between 1 and 5"),
    ("/position", {"word": "kayak", "position": 0}, "position", "between 1 and 5"),
    ("/count", {"word": "kayak", "letter": "ka"}, "letter", "exactly one letter"),
    ("/count", {"word": "kayak", "letter": "7"}, "letter", "exactly one letter"),
    ("/count", {"word": "kayak"}, "letter", "missing"),
    ("/spell", {"word": "kayak", "enable_thinking": True}, "enable_thinking", "non-thinking"),
    ("/spell", {"word": "kayak", "chat_template_kwargs": {"enable_thinking": True}}, "chat_template_kwargs",
     "non-thinking"),
    ("/spell", {"word": "kayak", "model": "gpt"}, "model", "base"),
    ("/spell", {"word": "kayak", "temperature": 2}, "temperature", "not permitted"),
]  # fmt: skip


@pytest.mark.parametrize("path, body, field, words", BAD, ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_request_names_the_field(server, path, body, field, words):
    r = requests.post(server + path, json=body, timeout=30)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    text = json.dumps(errors)
    assert any(field in e["loc"] or field in e["msg"] for e in errors), text
    assert words in text, text


def test_not_json_is_a_4xx(server):
    r = requests.post(server + "/count", data="word=kayak", headers={"content-type": "text/plain"}, timeout=30)
    assert 400 <= r.status_code < 500


def test_concurrent_requests_are_batched(server):
    words = ["aardvark", "bookkeeper", "mississippi", "zymurgy", "quizzically", "kayak", "rhythm", "syzygy"] * 2
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda w: requests.post(server + "/position", json={"word": w, "position": 2},
                                                        timeout=120), words))  # fmt: skip
    assert [r.status_code for r in results] == [200] * 16
    assert [r.json()["expected"] for r in results] == [w[1] for w in words]
    metrics = requests.get(server + "/metrics", timeout=30).text
    batches = _value(metrics, 'strawberry_batch_size_count{endpoint="/position"}')
    requests_in_batches = _value(metrics, 'strawberry_batch_size_sum{endpoint="/position"}')
    assert requests_in_batches / batches > 1.5, (requests_in_batches, batches)


def test_metrics_count_requests_by_status(server):
    before = requests.get(server + "/metrics", timeout=30).text
    ok_before = _value(before, 'strawberry_requests_total{endpoint="/count",status="200"}')
    bad_before = _value(before, 'strawberry_requests_total{endpoint="/count",status="422"}')
    for _ in range(2):
        assert requests.post(server + "/count", json=REQUESTS["/count"], timeout=120).status_code == 200
    assert requests.post(server + "/count", json={"word": "x1"}, timeout=30).status_code == 422
    after = requests.get(server + "/metrics", timeout=30).text
    assert _value(after, 'strawberry_requests_total{endpoint="/count",status="200"}') == ok_before + 2
    assert _value(after, 'strawberry_requests_total{endpoint="/count",status="422"}') == bad_before + 1
    assert _value(after, 'strawberry_request_latency_seconds_count{endpoint="/count"}') >= ok_before + 3
    assert _value(after, 'strawberry_generated_tokens_total{endpoint="/count",model="tuned"}') > 0


def _value(metrics: str, series: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def test_chat_endpoint_refuses_thinking(server):
    url = server + "/v1/chat/completions"
    ask = {"model": "strawberry-base", "messages": [{"role": "user", "content": "Spell 'cat'."}]}
    ok = requests.post(url, json=ask, timeout=120)
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"]
    think = {"model": "strawberry-base", "messages": [{"role": "user", "content": "Spell 'cat'. /think"}]}
    r = requests.post(url, json=think, timeout=60)
    assert r.status_code == 400 and "non-thinking" in r.text


def test_remote_backend_asks_a_real_openai_server(server, tmp_path):
    """A second server whose typed endpoints ask the first one's /v1/chat/completions (as production asks vLLM):
    same greedy replies, base and tuned, as the first server's own. Unbatched (--max-batch-size 1), too."""
    with serve("--remote", server + "/v1", "--no-chat", "--max-batch-size", "1", log=tmp_path / "remote.log") as remote:
        for model in ("base", "tuned"):
            for path, body in REQUESTS.items():
                direct = requests.post(server + path, json={**body, "model": model}, timeout=120).json()
                via = requests.post(remote + path, json={**body, "model": model}, timeout=120)
                assert via.status_code == 200, via.text
                assert via.json()["reply"] == direct["reply"]
                assert via.json()["model_identity"]["backend"] == "remote"


def test_model_failure_is_a_503_and_the_server_stays_up(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with serve("--remote", dead, "--no-chat", log=tmp_path / "dead.log") as url:
        for _ in range(2):
            start = time.monotonic()
            r = requests.post(url + "/position", json={"word": "kayak", "position": 1}, timeout=60)
            assert r.status_code == 503 and "failed to answer" in r.text, r.text
            assert time.monotonic() - start < 30
        assert requests.get(url + "/health", timeout=10).status_code == 200
        metrics = requests.get(url + "/metrics", timeout=10).text
        assert _value(metrics, 'strawberry_requests_total{endpoint="/position",status="503"}') == 2


def test_load_test_is_bounded_and_reports(server):
    from scripts.loadtest import run_load

    figures = run_load(server, users=4, requests=12, seconds=120, model="base")
    assert figures["failures"] == 0 and 8 <= figures["requests"] <= 16  # stops at the bound, give or take a user
    assert figures["requests_per_s"] > 0 and 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    with pytest.raises(ValueError, match="only targets localhost"):
        run_load("http://example.com:8000", users=1, requests=1, seconds=1)
