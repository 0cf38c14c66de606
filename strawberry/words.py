"""The English dictionary word list (data/raw/, provenance in data/raw/README.md)."""

import re
from pathlib import Path

LOWERCASE_WORD = re.compile(r"[a-z]+")


def load_word_list(path: str | Path) -> list[str]:
    """One word per line; blank lines and '#' comments skipped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"word list {path} not found (see data/raw/README.md)")
    with open(path) as f:
        return [w for w in (line.strip() for line in f) if w and not w.startswith("#")]


def dictionary_words(words: list[str], min_length: int, max_length: int) -> list[str]:
    """Lower-case alphabetic words within the length bounds, deduplicated and sorted (proper nouns dropped)."""
    return sorted({w for w in words if LOWERCASE_WORD.fullmatch(w) and min_length <= len(w) <= max_length})
