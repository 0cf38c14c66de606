"""extract_tokens' core: the English token subset and the evaluation word pool."""

import gc

from tokenizers import Tokenizer

from strawberry.tokenizer import english_tokens, split_in_context
from strawberry.words import dictionary_words


def eval_word_pool(tokenizer: Tokenizer, words: list[str], tokens: list[dict], context: str) -> list[dict]:
    """Dictionary words that split into 2+ tokens where they stand in a prompt, with at least one
    multi-letter alphabetic token, and whose text is no training token (case-insensitive)."""
    training_texts = {t["text"].lower() for t in tokens}
    multi_letter_ids = {t["id"] for t in tokens}  # the English tokens are exactly the 2+ letter ones
    candidates = [w for w in words if w not in training_texts]
    pool = []
    for split in split_in_context(tokenizer, candidates, context):
        if len(split.pieces) < 2 or multi_letter_ids.isdisjoint(split.token_ids):
            continue
        pool.append({"word": split.word, "n_tokens": len(split.pieces), "token_split": split.pieces,
                     "token_ids": split.token_ids})  # fmt: skip
    return pool


def core(tokenizer: Tokenizer, raw_words: list[str], params: dict) -> tuple[list[dict], list[dict]]:
    # Hundreds of thousands of small containers and no cycles: the cyclic GC would rescan them over and over.
    gc.disable()
    try:
        return _core(tokenizer, raw_words, params)
    finally:
        gc.enable()


def _core(tokenizer: Tokenizer, raw_words: list[str], params: dict) -> tuple[list[dict], list[dict]]:
    tokens = english_tokens(tokenizer, dictionary={w.lower() for w in raw_words})
    words = dictionary_words(raw_words, params["min_word_length"], params["max_word_length"])
    return tokens, eval_word_pool(tokenizer, words, tokens, params["word_context"])
