"""Stage extract_tokens: the English token subset of the tokenizer and the evaluation word pool."""

from strawberry.extraction import core
from strawberry.jsonl import write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.tokenizer import load_fast_tokenizer
from strawberry.words import load_word_list

TOKENS_OUT = "data/tokens/english_tokens.jsonl"
WORDS_OUT = "data/tokens/eval_words.jsonl"


def main() -> None:
    log = get_logger("extract_tokens")
    all_params = load_params()
    params = all_params["extract_tokens"]
    tokenizer = load_fast_tokenizer(all_params["tokenizer"])
    raw_words = load_word_list(params["word_list"])
    log.info("tokenizer %s: %d tokens; word list %s: %d lines", all_params["tokenizer"],
             tokenizer.get_vocab_size(), params["word_list"], len(raw_words))  # fmt: skip
    tokens, pool = core(tokenizer, raw_words, params)
    log.info("English tokens: %d (%d distinct texts); eval word pool: %d multi-token words",
             len(tokens), len({t["text"] for t in tokens}), len(pool))  # fmt: skip
    write_jsonl(TOKENS_OUT, tokens)
    write_jsonl(WORDS_OUT, pool)


if __name__ == "__main__":
    main()
