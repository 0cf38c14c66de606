"""Spelling (training data only, never evaluated): "Spell 'straw'." -> "s t r a w", over many phrasings,
separators and directions; and the format control, the same prompts and reply shape with another token's letters."""

import random
import re
import string

from strawberry.records import alpaca
from strawberry.tasks.common import ParsedAnswer, balanced, letter_multiset
from strawberry.templates import Separator, Template, TemplateError


def expected(meta: dict, joiners: dict[str, str]) -> str:
    letters = list(meta["word"])
    if meta["direction"] == "reverse":
        letters.reverse()
    return joiners[meta["separator"]].join(letters)


def problem(meta: dict, joiners: dict[str, str]) -> str | None:
    """What a spelling record's meta says wrong of itself, or None."""
    return None if meta["separator"] in joiners else f"unknown separator {meta['separator']!r}"


def parse(reply: str) -> ParsedAnswer:
    """The letters of a spelled reply, in order ("s-t-r-a-w" -> "straw"; served, never evaluated): strict only when
    each piece between separators is a single letter."""
    pieces = re.split(r"[^A-Za-z]+", reply.strip())
    letters = [p for p in pieces if p]
    spelled = "".join(letters).lower() or None
    return ParsedAnswer(spelled if letters and all(len(p) == 1 for p in letters) else None, spelled)


def records(
    tokens: list[dict],
    templates: list[Template],
    separators: dict[str, Separator],
    per_token: int,
    weights: dict[str, dict[str, float]],
    rng: random.Random,
) -> list[dict]:
    """`per_token` spelling records for every distinct English token text."""
    ids_by_text: dict[str, list[int]] = {}
    for token in tokens:
        ids_by_text.setdefault(token["text"], []).append(token["id"])
    texts = sorted(ids_by_text)
    n = len(texts) * per_token

    cells: dict[tuple[str, str], list[Template]] = {}
    for t in templates:
        cells.setdefault((t.category, t.style), []).append(t)
    # A weighted category or style without a template is reported as a missing cell below.
    categories = balanced(sorted({t.category for t in templates} | set(weights.get("category", {}))), n, rng,
                          weights.get("category"))  # fmt: skip
    styles = balanced(sorted({t.style for t in templates} | set(weights.get("style", {}))), n, rng,
                      weights.get("style"))  # fmt: skip
    seps = balanced(list(separators), n, rng, weights.get("separator"))
    missing = sorted({(c, s) for c, s in zip(categories, styles)} - set(cells))
    if missing:
        raise TemplateError(f"no spelling template for (category, style) {missing}; add one or set its weight to 0")

    out = []
    for i, (category, style, sep_name) in enumerate(zip(categories, styles, seps)):
        text = texts[i % len(texts)]
        template = rng.choice(cells[(category, style)])
        sep = separators[sep_name]
        letters = text[::-1] if template.direction == "reverse" else text
        meta = {
            "task": "spelling", "arm": "spelling", "word": text, "token_ids": ids_by_text[text],
            "length": len(text), "template_id": template.id, "category": category, "style": style,
            "direction": template.direction, "separator": sep_name,
        }  # fmt: skip
        out.append(alpaca(template.render(word=text, separator_hint=sep.hint), sep.joiner.join(letters), meta))
    return out


def format_control_records(spelling: list[dict], joiners: dict[str, str], rng: random.Random) -> list[dict]:
    """The format-control arm: each spelling record with the same prompt and reply shape (length, separator,
    direction) but the letters of another token text of the same length whose letters differ from the word's
    (as a multiset): the reply carries no information about the token, neither its letters' positions nor their
    counts. Where no such token exists, random lower-case letters (drawn until their multiset differs)."""
    by_length: dict[int, list[str]] = {}
    for record in spelling:
        by_length.setdefault(len(record["meta"]["word"]), []).append(record["meta"]["word"])
    control = []
    for record in spelling:
        meta = record["meta"]
        word = meta["word"]
        own = letter_multiset(word)
        others = by_length[len(word)]
        letters, method = None, "other_token"
        for _ in range(20):  # almost always the first draw: same-length tokens rarely share all letters
            other = rng.choice(others)
            if letter_multiset(other) != own:
                letters = list(other)
                break
        if letters is None:
            method = "random_letters"
            letters = list(word)
            while letter_multiset("".join(letters)) == own:
                letters = [rng.choice(string.ascii_lowercase) for _ in word]
        if meta["direction"] == "reverse":
            letters.reverse()
        output = joiners[meta["separator"]].join(letters)
        control.append({**record, "output": output, "meta": {**meta, "arm": "format_control", "control": method}})
    return control
