"""Stage generate: Alpaca records from templates: spelling of English tokens, and eval questions about words."""

import random

from strawberry import tasks
from strawberry.generation import (
    control_pool,
    coverage_records,
    eval_records,
    piece_coverage,
    positive_control_records,
    worked_control_records,
)
from strawberry.jsonl import read_jsonl, write_json, write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.templates import load_separators, load_templates

TEMPLATES_DIR = "data/templates"
SPELLING_OUT = "data/generated/spelling.jsonl"
EVAL_OUT = "data/generated/eval.jsonl"
CONTROL_OUT = "data/generated/format_control.jsonl"
INDEXED_OUT = "data/generated/indexed.jsonl"
POSITIVE_OUT = "data/generated/positive_control.jsonl"
WORKED_OUT = "data/generated/worked_control.jsonl"
COVERAGE_OUT = "data/generated/coverage.jsonl"  # spelling of the pieces of half the eval words (study v3, arm B/D)
COVERAGE_CONTROL_OUT = "data/generated/coverage_control.jsonl"  # its format control, line by line (arm C)
COVERAGE_WORDS_OUT = "data/generated/coverage_words.json"  # which eval words had their pieces spelled
PIECE_SPELLING_OUT = "data/generated/piece_spelling.jsonl"  # study v4: numbered spelling of the covered pieces
PIECE_COVERAGE_OUT = "data/generated/piece_coverage.json"  # study v4: the covered and uncovered pieces


def main() -> None:
    log = get_logger("generate")
    params = load_params()["generate"]
    rng = random.Random(params["seed"])
    templates = load_templates(TEMPLATES_DIR)
    separators = load_separators(TEMPLATES_DIR)
    log.info("templates: %s; separators: %s", {k: len(v) for k, v in templates.items()}, list(separators))

    tokens = all_tokens = read_jsonl("data/tokens/english_tokens.jsonl")
    if params["spelling_tokens"] is not None:  # a sample of distinct token texts, for quick runs
        texts = set(rng.sample(sorted({t["text"] for t in tokens}), params["spelling_tokens"]))
        tokens = [t for t in tokens if t["text"] in texts]
    spelling = tasks.spelling.records(tokens, templates["spelling"], separators, params["spelling_per_token"],
                                      params["weights"], rng)  # fmt: skip

    pool = read_jsonl("data/tokens/eval_words.jsonl")
    n_words = params["eval_words"] or len(pool)
    if n_words > len(pool):
        raise ValueError(f"params.yaml generate.eval_words={n_words} but the eval word pool has {len(pool)} words")
    n_count = params["per_word"]["count"]
    letters = params["count_letters"]
    words = tasks.count.pick_eval_words(pool, n_words, n_count, params["count_weights"], rng, letters)
    questions = eval_records(words, templates, params["per_word"], params["count_weights"], rng, letters)

    log.info("spelling records: %d; eval questions: %d about %d words", len(spelling), len(questions), n_words)
    # The other arms, as many records as spelling, each from its own seeded stream so that adding an arm
    # changes none of the others.
    joiners = {name: s.joiner for name, s in separators.items()}
    control = tasks.spelling.format_control_records(spelling, joiners, random.Random(params["seed"] + 1))
    indexed = tasks.indexed.records(spelling, templates["indexed"], random.Random(params["seed"] + 2))
    others = control_pool(pool, words, params["family_prefix"])  # no val/test word, nor a sibling of one
    positive = positive_control_records(others, len(spelling), templates, params["count_weights"],
                                        random.Random(params["seed"] + 3), letters)  # fmt: skip
    worked = worked_control_records(others, len(spelling), templates, separators, params["weights"],
                                    params["count_weights"], random.Random(params["seed"] + 4), letters)  # fmt: skip
    log.info("arms: format_control %d, indexed %d, positive_control %d, worked_control %d records (%d and %d words "
             "never in val/test, nor siblings of them)", len(control), len(indexed), len(positive), len(worked),
             len({r["meta"]["word"] for r in positive}), len({r["meta"]["word"] for r in worked}))  # fmt: skip
    coverage, covered = coverage_records(words, all_tokens, params["coverage_share"], params["coverage_forms"],
                                         templates["spelling"], separators, params["weights"],
                                         random.Random(params["seed"] + 5))  # fmt: skip
    coverage_control = tasks.spelling.format_control_records(coverage, joiners, random.Random(params["seed"] + 6))
    log.info("coverage: %d spelling records of %d pieces of %d of the %d eval words (never a whole word)",
             len(coverage), len({r["meta"]["word"] for r in coverage}), len(covered), len(words))  # fmt: skip
    halves, covered_pieces = piece_coverage(words, params["piece_share"], random.Random(params["seed"] + 7))
    piece_spelling = tasks.numbered.records(covered_pieces, templates["numbered"], params["piece_forms"],
                                            random.Random(params["seed"] + 8))  # fmt: skip
    log.info("piece coverage (study v4): %d of the eval words' %d distinct pieces covered, %d numbered spelling "
             "records", len(halves["covered"]), len(halves["covered"]) + len(halves["uncovered"]),
             len(piece_spelling))  # fmt: skip
    write_jsonl(PIECE_SPELLING_OUT, piece_spelling)
    write_json(PIECE_COVERAGE_OUT, halves)
    write_jsonl(COVERAGE_OUT, coverage)
    write_jsonl(COVERAGE_CONTROL_OUT, coverage_control)
    write_json(COVERAGE_WORDS_OUT, {"covered": covered, "pieces": sorted({r["meta"]["word"] for r in coverage})})
    write_jsonl(SPELLING_OUT, spelling)
    write_jsonl(CONTROL_OUT, control)
    write_jsonl(INDEXED_OUT, indexed)
    write_jsonl(POSITIVE_OUT, positive)
    write_jsonl(WORKED_OUT, worked)
    write_jsonl(EVAL_OUT, questions)


if __name__ == "__main__":
    main()
