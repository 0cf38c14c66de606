import re

import pytest

from strawberry.extraction import core, eval_word_pool
from strawberry.tokenizer import english_token_text, english_tokens, qwen3_tokenizer_dir, split_at, split_in_context


@pytest.mark.parametrize(
    "token, text",
    [("straw", "straw"), ("Ġstraw", "straw"), ("ĠThe", "The"), ("in", "in"),
     ("a", None), ("Ġa", None), ("Ġ", None), ("123", None), ("Ġcafé", None), ("ÃĹ", None),
     ("straw'", None), ("ĠĠab", None), ("<|im_end|>", None)],
)  # fmt: skip
def test_english_token_text(token, text):
    assert english_token_text(token) == text


def test_tokenizer_files_ship_with_the_package():
    names = {p.name for p in qwen3_tokenizer_dir().iterdir()}
    assert {"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json"} <= names


def test_english_tokens_of_real_qwen3_vocab(qwen3_tokenizer):
    tokens = english_tokens(qwen3_tokenizer, dictionary={"straw", "berry"})
    by_token = {t["token"]: t for t in tokens}
    assert by_token["Ġstraw"] == {"id": qwen3_tokenizer.token_to_id("Ġstraw"), "token": "Ġstraw", "text": "straw",
                                  "length": 5, "leading_space": True, "in_dictionary": True}  # fmt: skip
    assert by_token["berry"]["in_dictionary"] and not by_token["berry"]["leading_space"]
    # Every kept token is 2+ ASCII letters; nothing else is kept (special, CJK, digits, single letters).
    assert all(t["text"].isascii() and t["text"].isalpha() and len(t["text"]) >= 2 for t in tokens)
    # Counted another way than english_token_text: a plain regex over the raw vocabulary, and the published counts.
    vocab = qwen3_tokenizer.get_vocab(with_added_tokens=False)
    expected = {tok for tok in vocab if re.fullmatch(r"Ġ?[A-Za-z][A-Za-z]+", tok)}
    assert {t["token"] for t in tokens} == expected
    assert len(tokens) == 68_819 and len({t["text"] for t in tokens}) == 54_508  # README: 68,819 tokens, 54,508 texts
    assert "<|im_end|>" not in by_token


def test_split_depends_on_context(qwen3_tokenizer):
    # At the start of a string Qwen3 reads 's as a contraction; after a space the quote stands alone.
    at_start = split_in_context(qwen3_tokenizer, ["strawberry"], "'{word}'")[0]
    in_prompt = split_in_context(qwen3_tokenizer, ["strawberry"], " '{word}'")[0]
    assert at_start.pieces == ["s", "tr", "aw", "berry"]
    assert in_prompt.pieces == ["str", "aw", "berry"]
    assert "".join(in_prompt.pieces) == "strawberry"
    assert split_at(qwen3_tokenizer, ["How many r's in 'strawberry'?"], [(17, 27)]) == [3]


def test_context_must_hold_word_once(qwen3_tokenizer):
    with pytest.raises(ValueError, match="exactly once"):
        split_in_context(qwen3_tokenizer, ["x"], "no placeholder")


def test_eval_pool_excludes_training_tokens_and_single_tokens(qwen3_tokenizer):
    tokens = english_tokens(qwen3_tokenizer, dictionary=set())
    words = ["strawberry", "the", "straw", "aardvark", "Berry", "xylophonist"]
    pool = {p["word"]: p for p in eval_word_pool(qwen3_tokenizer, words, tokens, " '{word}'")}
    assert set(pool) == {"aardvark", "xylophonist"}
    # "strawberry" splits in quotes, but "Ġstrawberry" is a vocabulary token, so it is training data;
    # "Berry" leaks case-insensitively through the token "berry"; "the" and "straw" are tokens too.
    assert pool["aardvark"]["token_split"] == ["a", "ard", "v", "ark"]
    assert pool["aardvark"]["n_tokens"] == len(pool["aardvark"]["token_ids"]) == 4


def test_core_keeps_lowercase_dictionary_words(qwen3_tokenizer):
    params = {"min_word_length": 3, "max_word_length": 20, "word_context": " '{word}'"}
    tokens, pool = core(qwen3_tokenizer, ["Aaron", "aardvark", "in", "xylophonist"], params)
    assert {p["word"] for p in pool} == {"aardvark", "xylophonist"}
    assert next(t for t in tokens if t["text"] == "in")["in_dictionary"]  # dictionary = whole list, any length
