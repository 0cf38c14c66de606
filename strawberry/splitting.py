"""split's core: train = spelling only; val/test = eval questions, split by word so no word is in two splits."""

import random


def split_by_word(questions: list[dict], val_fraction: float, rng: random.Random) -> dict[str, list[dict]]:
    words = sorted({q["meta"]["word"] for q in questions})
    rng.shuffle(words)
    n_val = round(len(words) * val_fraction)
    val_words = set(words[:n_val])
    splits: dict[str, list[dict]] = {"val": [], "test": []}
    for q in questions:
        splits["val" if q["meta"]["word"] in val_words else "test"].append(q)
    return splits


def with_split(records: list[dict], split: str) -> list[dict]:
    return [{**r, "meta": {**r["meta"], "split": split}} for r in records]
