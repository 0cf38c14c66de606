"""Stage split: train (spelling only), val and test (position/count/length only, split by word family)."""

import json
import random

from strawberry.jsonl import read_jsonl, write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.splitting import split_by_family, with_split

SPLITS_DIR = "data/splits"


def main() -> None:
    log = get_logger("split")
    all_params = load_params()
    params = all_params["split"]
    with open("metrics/validation.json") as f:
        if not json.load(f)["valid"]:
            raise SystemExit("split: metrics/validation.json says the generated data is invalid; run validate")
    rng = random.Random(params["seed"])

    spelling = read_jsonl("data/generated/spelling.jsonl")
    control = read_jsonl("data/generated/format_control.jsonl")  # mirrors spelling line by line
    indexed = read_jsonl("data/generated/indexed.jsonl")  # mirrors spelling line by line
    positive = read_jsonl("data/generated/positive_control.jsonl")  # as many records, about other words
    order = list(range(len(spelling)))
    rng.shuffle(order)
    order = order[: params["max_train_records"]]  # None = all
    positive_order = list(range(len(positive)))
    random.Random(params["seed"] + 1).shuffle(positive_order)
    worked = read_jsonl("data/generated/worked_control.jsonl")  # as many records, worked answers about other words
    worked_order = list(range(len(worked)))
    random.Random(params["seed"] + 3).shuffle(worked_order)
    splits = {  # the training file of each train.arm, all of the same size
        "train": [spelling[i] for i in order],
        "train_format_control": [control[i] for i in order],  # the same prompts, letters that say nothing
        "train_indexed": [indexed[i] for i in order],  # the same tokens, letters with their positions
        "train_positive_control": [positive[i] for i in positive_order[: len(order)]],  # questions, other words
        "train_worked_control": [worked[i] for i in worked_order[: len(order)]],  # worked answers, other words
        # study v3's added parts (train.arm worked_spelling / worked_format add one pass over them)
        "train_coverage": read_jsonl("data/generated/coverage.jsonl"),  # pieces of half the eval words
        "train_coverage_control": read_jsonl("data/generated/coverage_control.jsonl"),  # its format control
        # study v4's piece spelling (train.arm worked_piece_spelling adds one pass; piece_spelling is it alone)
        "train_piece_spelling": read_jsonl("data/generated/piece_spelling.jsonl"),
        **split_by_family(read_jsonl("data/generated/eval.jsonl"), params["val_fraction"],
                          all_params["generate"]["family_prefix"],
                          random.Random(params["seed"] + 2)),  # its own stream: the spelling order never moves it
    }

    for name, records in splits.items():
        write_jsonl(f"{SPLITS_DIR}/{name}.jsonl", with_split(records, name.split("_")[0]))
    log.info("splits: %s", {name: len(records) for name, records in splits.items()})


if __name__ == "__main__":
    main()
