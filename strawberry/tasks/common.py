"""What several tasks share: the parsed-answer shape, ordinals, number words, balanced draws."""

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedAnswer:
    strict: str | None  # the reply itself, when it is exactly an answer of the right kind
    lenient: str | None  # the first letter / integer found in the reply (None: unparseable)


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"once": 1, "twice": 2, "thrice": 3}  # fmt: skip
_NUMBER = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)


def parse_number(reply: str, ignore: re.Pattern | None = None) -> ParsedAnswer:
    """strict: the trimmed reply is one integer; lenient: the first integer or number word ("three" -> "3",
    "twice" -> "2"), leaving out what `ignore` matches."""
    text = reply.strip()
    strict = text if text.isdigit() else None
    match = _NUMBER.search(ignore.sub(" ", text) if ignore else text)
    if not match:
        return ParsedAnswer(strict, None)
    value = match.group(1).lower()
    return ParsedAnswer(strict, str(int(value)) if value.isdigit() else str(NUMBER_WORDS[value]))


def letter_multiset(text: str) -> str:
    """The letters of a text, case-folded and sorted: what a spelling says about counts, whatever the order."""
    return "".join(sorted(c for c in text.lower() if c.isalpha()))


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


def equal_quota(available: dict, n: int) -> dict:
    """n split over strata as equally as their sizes allow (a small stratum gives its share to the others)."""
    quota = dict.fromkeys(available, 0)
    while n > 0:
        open_ = [c for c in available if quota[c] < available[c]]
        if not open_:
            break
        share, extra = divmod(n, len(open_))
        for i, c in enumerate(open_):
            add = min(share + (i < extra), available[c] - quota[c])
            quota[c] += add
            n -= add
    return quota


def template_values(meta: dict) -> dict:
    """The values a question template is rendered with, from a record's meta: the word, the letter asked, the position
    asked as a number (n) and as an ordinal ("3rd")."""
    position = meta.get("position")
    return {"word": meta["word"], "letter": meta.get("letter"), "n": position,
            "ordinal": ordinal(position) if position else None}  # fmt: skip


def worked_lines(meta: dict, answer: str) -> str:
    """The text of a reply in the worked answer mode: "1: a" per letter of the word (a count question's letter marked
    at each hit with its running count, "2: d (1)"), then one marked line "Answer: <answer>"."""
    asked = meta.get("letter") if meta["task"] == "count" else None
    return "\n".join(letter_lines(meta["word"], asked)) + f"\nAnswer: {answer}"


def letter_lines(word: str, asked: str | None = None) -> list[str]:
    """The worked form's letter lines: "1: s" per letter ("2: d (1)" at each hit of `asked`, with its running
    count): the form the worked reply and the numbered spelling of a piece share."""
    hits, lines = 0, []
    for i, letter in enumerate(word, start=1):
        if asked is not None and letter == asked:
            hits += 1
            lines.append(f"{i}: {letter} ({hits})")
        else:
            lines.append(f"{i}: {letter}")
    return lines
