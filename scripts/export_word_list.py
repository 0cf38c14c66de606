"""Print a word list shipped by the PyPI package english-words, one word per line, sorted.

Usage: python scripts/export_word_list.py {web2,gcide} > data/raw/<name>.txt
"""

import importlib.metadata
import pickle
import sys


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "web2"
    if name not in ("web2", "gcide"):
        sys.exit(f"unknown list {name!r}: choose web2 or gcide")
    path = importlib.metadata.distribution("english-words").locate_file(f"english_words/data/{name}.pickle")
    with open(path, "rb") as f:
        words = pickle.load(f)
    sys.stdout.write("".join(w + "\n" for w in sorted(words)))


if __name__ == "__main__":
    main()
