"""Indexed spelling (training data only; the TIPA recipe): "Spell 'straw' with positions." -> "1: s 2: t 3: r 4: a
5: w", one record per spelling record, the same token, balanced over style and direction."""

import random

from strawberry.records import alpaca
from strawberry.tasks.common import balanced
from strawberry.templates import Template


def indexed_spelling(word: str, direction: str) -> str:
    """'straw' -> '1: s 2: t 3: r 4: a 5: w'; reverse -> '5: w 4: a 3: r 2: t 1: s' (positions stay the word's)."""
    pairs = [f"{i}: {c}" for i, c in enumerate(word, start=1)]
    return " ".join(reversed(pairs) if direction == "reverse" else pairs)


def expected(meta: dict, joiners: dict[str, str]) -> str:
    return indexed_spelling(meta["word"], meta["direction"])


def records(spelling: list[dict], templates: list[Template], rng: random.Random) -> list[dict]:
    """The indexed arm: each spelling record's token spelled with each letter's position."""
    chosen = balanced([t.id for t in templates], len(spelling), rng)
    by_id = {t.id: t for t in templates}
    out = []
    for record, template_id in zip(spelling, chosen):
        template = by_id[template_id]
        word = record["meta"]["word"]
        meta = {**record["meta"], "task": "indexed", "arm": "indexed", "template_id": template.id,
                "style": template.style, "category": None, "direction": template.direction,
                "separator": None}  # fmt: skip
        out.append(alpaca(template.render(word=word), indexed_spelling(word, template.direction), meta))
    return out
