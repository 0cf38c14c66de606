"""split's core: train = spelling only; val/test = eval questions, split by word family so that no word, and no
word sharing a long prefix with it ("absolutism"/"absolutist"), is on both sides."""

import random


def family(word: str, prefix: int | None) -> str:
    """A word's family: its first `prefix` letters, case-folded (a shorter word is a family of its own); None:
    the word itself."""
    return word.lower()[:prefix] if prefix else word


def split_by_family(questions: list[dict], val_fraction: float, prefix: int | None, rng: random.Random
                    ) -> dict[str, list[dict]]:  # fmt: skip
    """val gets `val_fraction` of the families (shuffled by `rng`, a generator of its own so that nothing drawn
    before it, like the spelling records' order, changes which words are test); test the rest."""
    families = sorted({family(q["meta"]["word"], prefix) for q in questions})
    rng.shuffle(families)
    val_families = set(families[: round(len(families) * val_fraction)])
    splits: dict[str, list[dict]] = {"val": [], "test": []}
    for q in questions:
        splits["val" if family(q["meta"]["word"], prefix) in val_families else "test"].append(q)
    return splits


def with_split(records: list[dict], split: str) -> list[dict]:
    return [{**r, "meta": {**r["meta"], "split": split}} for r in records]
