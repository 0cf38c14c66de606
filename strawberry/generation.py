"""Building Alpaca records from tokens, words and templates: spelling (train pool) and position/count/length
questions (eval pool). Deterministic for a seed; categories, styles and separators balanced by weight."""

import random
import string
from collections.abc import Sequence
from typing import Any

from strawberry.answers import ordinal, position_category
from strawberry.templates import Separator, Template, TemplateError

POSITION_CATEGORIES = ("first", "middle", "last")


def balanced(options: Sequence[str], n: int, rng: random.Random, weights: dict[str, float] | None = None) -> list[str]:
    """n draws whose counts match the weights exactly (largest remainder), in shuffled order."""
    weights = weights or dict.fromkeys(options, 1.0)
    unknown = set(weights) - set(options)
    if unknown:
        raise ValueError(f"weights for unknown option(s) {sorted(unknown)}; known: {sorted(options)}")
    active = [o for o in options if weights.get(o, 0) > 0]
    if not active:
        raise ValueError(f"all weights are zero for {list(options)}")
    total = sum(weights[o] for o in active)
    exact = {o: n * weights[o] / total for o in active}
    counts = {o: int(exact[o]) for o in active}
    for o in sorted(active, key=lambda o: exact[o] - counts[o], reverse=True)[: n - sum(counts.values())]:
        counts[o] += 1
    draws = [o for o in active for _ in range(counts[o])]
    rng.shuffle(draws)
    return draws


# Every record carries every meta key (None where it does not apply), so that all splits share one set of
# columns and load together with datasets.load_dataset("json", ...).
META_KEYS = ("task", "arm", "word", "length", "template_id", "style", "category", "direction", "separator",
             "token_ids", "token_split", "n_tokens", "letter", "position", "position_category", "control",
             "split")  # fmt: skip


def alpaca(instruction: str, output: str, meta: dict[str, Any]) -> dict[str, Any]:
    unknown = set(meta) - set(META_KEYS)
    if unknown:
        raise ValueError(f"meta keys {sorted(unknown)} are not in META_KEYS")
    return {"instruction": instruction, "input": "", "output": output, "meta": {k: meta.get(k) for k in META_KEYS}}


def spelling_records(
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

    records = []
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
        records.append(alpaca(template.render(word=text, separator_hint=sep.hint), sep.joiner.join(letters), meta))
    return records


def format_control_records(spelling: list[dict], joiners: dict[str, str], rng: random.Random) -> list[dict]:
    """The format-control arm: each spelling record with the same prompt and reply shape (length, separator,
    direction) but wrong letters: the word's letters shuffled into another order, or, for a word with no other
    order ("AA"), the letters of another token text of the same length. Teaches the reply shape, not the spelling."""
    by_length: dict[int, list[str]] = {}
    for record in spelling:
        by_length.setdefault(len(record["meta"]["word"]), []).append(record["meta"]["word"])
    control = []
    for record in spelling:
        meta = record["meta"]
        word = meta["word"]
        letters, method = list(word), "shuffle"
        if len(set(word)) > 1:
            while letters == list(word):
                rng.shuffle(letters)
        else:
            others = [w for w in by_length[len(word)] if w != word]
            if not others:
                raise ValueError(f"format control: no other token of length {len(word)} to replace {word!r}")
            letters, method = list(rng.choice(others)), "other_token"
        if meta["direction"] == "reverse":
            letters.reverse()
        output = joiners[meta["separator"]].join(letters)
        control.append({**record, "output": output, "meta": {**meta, "arm": "format_control", "control": method}})
    return control


def eval_records(
    words: list[dict],
    templates: dict[str, list[Template]],
    per_word: dict[str, int],
    absent_letter_rate: float,
    rng: random.Random,
) -> list[dict]:
    """Position, count and length questions about each word (dicts with word, token_split)."""
    records: list[dict] = []
    n_pos = per_word["position"]
    if n_pos > len(POSITION_CATEGORIES):
        raise ValueError(f"position questions per word must be <= {len(POSITION_CATEGORIES)} (first/middle/last)")
    n_count = per_word["count"]
    absent_flags = balanced(["absent", "present"], len(words) * n_count, rng,
                            {"absent": absent_letter_rate, "present": 1 - absent_letter_rate})  # fmt: skip
    chosen = {task: iter(balanced([t.id for t in ts], len(words) * per_word[task], rng))
              for task, ts in templates.items() if task != "spelling"}  # fmt: skip
    by_id = {t.id: t for ts in templates.values() for t in ts}

    def question(task: str, word: dict, output: str, **extra: Any) -> dict:
        template = by_id[next(chosen[task])]
        w = word["word"]
        meta = {"task": task, "word": w, "length": len(w), "n_tokens": len(word["token_split"]),
                "token_split": word["token_split"], "template_id": template.id, "style": template.style,
                "separator": None, **extra}  # fmt: skip
        values = {"word": w, "letter": extra.get("letter"), "n": extra.get("position")}
        if "position" in extra:
            values["ordinal"] = ordinal(extra["position"])
        return alpaca(template.render(**values), output, meta)

    for i, word in enumerate(words):
        w = word["word"]
        # Rotate the category order across words so first/middle/last stay balanced and distinct per word.
        for j in range(n_pos):
            category = POSITION_CATEGORIES[(i + j) % len(POSITION_CATEGORIES)]
            pos = {"first": 1, "last": len(w)}.get(category) or rng.randint(2, len(w) - 1)
            records.append(question("position", word, w[pos - 1], letter=w[pos - 1], position=pos,
                                    position_category=position_category(pos, len(w))))  # fmt: skip
        present = sorted(set(w))
        absent = sorted(set(string.ascii_lowercase) - set(w))
        rng.shuffle(present)
        for j in range(n_count):
            if absent_flags[i * n_count + j] == "absent" and absent:
                letter = rng.choice(absent)
            else:
                letter = present[j % len(present)]
            records.append(question("count", word, str(w.count(letter)), letter=letter))
        for _ in range(per_word["length"]):
            records.append(question("length", word, str(len(w))))
    return records
