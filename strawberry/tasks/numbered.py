"""Numbered spelling (training data only; study v4's piece spelling): "Spell 'berry' one letter per line, each after
its number." -> "1: b\n2: e\n3: r\n4: r\n5: y": exactly the letter lines of the worked reply (common.letter_lines),
so a spelled piece is learned in the form the answer walks through. The piece is quoted as the questions quote the
word it sits in, so it is the same token there (validate checks the token ids)."""

import random

from strawberry.records import alpaca
from strawberry.tasks.common import letter_lines
from strawberry.templates import Template

ARM = "piece_spelling"


def expected(meta: dict, joiners: dict[str, str]) -> str:
    return "\n".join(letter_lines(meta["word"]))


def records(pieces: list[dict], templates: list[Template], forms: int, rng: random.Random) -> list[dict]:
    """`forms` records per piece ({"text", "token_id"}), each in another template (drawn at random)."""
    if forms > len(templates):
        raise ValueError(f"{forms} numbered spelling forms per piece, but data/templates has {len(templates)}")
    out = []
    for piece in pieces:
        for template in rng.sample(templates, forms):
            text = piece["text"]
            meta = {"task": "numbered", "arm": ARM, "word": text, "length": len(text), "template_id": template.id,
                    "style": template.style, "category": None, "direction": "forward", "separator": None,
                    "token_ids": [piece["token_id"]], "token_split": [text], "n_tokens": 1}  # fmt: skip
            out.append(alpaca(template.render(word=text), expected(meta, {}), meta))
    rng.shuffle(out)
    return out
