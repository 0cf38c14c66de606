"""Speed of the data stages on the full vocabulary and word list (a script, not a test).

    .venv/bin/python -m tests.perf.data_stages

Prints (1) extract_tokens' core against a naive per-word `tokenizer.tokenize` loop, in the same run,
and (2) the wall time of all five data stages from a clean state, by the real `dvc repro` in a fresh copy.
"""

import tempfile
import time
from pathlib import Path

from strawberry.extraction import core
from strawberry.params import load_params
from strawberry.tokenizer import QWEN3, load_fast_tokenizer, load_hf_tokenizer
from strawberry.words import dictionary_words, load_word_list
from tests.conftest import copy_project, run


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    params = load_params()["extract_tokens"]
    raw = load_word_list(params["word_list"])
    words = dictionary_words(raw, params["min_word_length"], params["max_word_length"])
    fast, hf = load_fast_tokenizer(QWEN3), load_hf_tokenizer(QWEN3)
    context = params["word_context"]

    contexts = [context.replace("{word}", w) for w in words]
    (tokens, pool), t_core = timed(lambda: core(fast, raw, params))
    _, t_batch = timed(lambda: fast.encode_batch(contexts, add_special_tokens=False))
    _, t_naive = timed(lambda: [hf.tokenize(c) for c in contexts])
    print(f"extract_tokens core on {len(raw):,} words and {fast.get_vocab_size():,} tokens: {t_core:.2f} s "
          f"({len(tokens):,} English tokens, {len(pool):,} eval words)")  # fmt: skip
    print(f"naive per-word tokenizer.tokenize loop over {len(words):,} words (tokenizing only): {t_naive:.2f} s")
    print(f"Rust encode_batch of the same {len(words):,} prompts: {t_batch:.2f} s")
    print(f"ratio naive loop / encode_batch (tokenizing only): {t_naive / t_batch:.1f}x")
    print(f"ratio naive loop / whole extract_tokens core (tokenize + filter + vocab scan): {t_naive / t_core:.1f}x")

    with tempfile.TemporaryDirectory() as tmp:
        repo = copy_project(Path(tmp))
        _, t_all = timed(lambda: run(["dvc", "repro", "analyze"], repo))
    print(f"all five data stages from a clean state (dvc repro, full inputs): {t_all:.1f} s")


if __name__ == "__main__":
    main()
