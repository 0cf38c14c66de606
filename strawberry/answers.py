"""Answers derived from a record's meta alone (used by validate, independently of the generator)."""

import re
from dataclasses import dataclass
from typing import Any


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


POSITION_CATEGORIES = ("first", "middle", "last")  # what position questions are balanced over
COUNT_CLASSES = ("0", "1", "2", "3+")  # true-count classes that count questions are balanced over


def count_class(answer: str | int) -> str:
    """The true-count class of a count answer: "0", "1", "2" or "3+"."""
    return "3+" if int(answer) >= 3 else str(int(answer))


def position_category(position: int, length: int) -> str:
    return "first" if position == 1 else "last" if position == length else "middle"


def indexed_spelling(word: str, direction: str) -> str:
    """'straw' -> '1: s 2: t 3: r 4: a 5: w'; reverse -> '5: w 4: a 3: r 2: t 1: s' (positions stay the word's)."""
    pairs = [f"{i}: {c}" for i, c in enumerate(word, start=1)]
    return " ".join(reversed(pairs) if direction == "reverse" else pairs)


def expected_output(meta: dict[str, Any], joiners: dict[str, str]) -> str:
    """The one correct output for a record, from its meta; `joiners` maps separator name -> joining string."""
    word, task = meta["word"], meta["task"]
    if task == "spelling":
        letters = list(word)
        if meta["direction"] == "reverse":
            letters.reverse()
        return joiners[meta["separator"]].join(letters)
    if task == "indexed":
        return indexed_spelling(word, meta["direction"])
    if task == "position":
        return word[meta["position"] - 1]
    if task == "count":
        return str(word.count(meta["letter"]))
    if task == "length":
        return str(len(word))
    raise ValueError(f"unknown task {task!r}")


NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}  # fmt: skip
_QUOTED_LETTER = re.compile(r"""['"‘“]([A-Za-z])['"’”]""")
_LONE_LETTER = re.compile(r"(?<![A-Za-z'])([A-Za-z])(?![A-Za-z'])")
_NUMBER = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedAnswer:
    strict: str | None  # the reply itself, when it is exactly an answer of the right kind
    lenient: str | None  # the first letter / integer found in the reply (None: unparseable)


def parse_answer(task: str, reply: str) -> ParsedAnswer:
    """Extract an answer from a model reply (the documented normalizer, docs/evaluation.md).

    strict: the trimmed reply, lower-cased, is one letter (position) or one integer (count, length).
    lenient: position -> the first quoted single letter ('A'), else the first letter standing alone;
    count/length -> the first integer or number word ("three" -> "3"). Letters are compared lower-case.
    spelling (served, never evaluated): lenient -> every letter of the reply joined; strict only when each
    piece between separators is a single letter.
    """
    text = reply.strip()
    if task == "position":
        strict = text.lower() if len(text) == 1 and text.isalpha() else None
        match = _QUOTED_LETTER.search(text) or _LONE_LETTER.search(text)
        return ParsedAnswer(strict, match.group(1).lower() if match else None)
    if task in ("count", "length"):
        strict = text if text.isdigit() else None
        match = _NUMBER.search(text)
        if not match:
            return ParsedAnswer(strict, None)
        value = match.group(1).lower()
        return ParsedAnswer(strict, str(int(value)) if value.isdigit() else str(NUMBER_WORDS[value]))
    if task == "spelling":  # the letters of a spelled reply, in order: "s-t-r-a-w" -> "straw"
        pieces = re.split(r"[^A-Za-z]+", text)
        letters = [p for p in pieces if p]
        spelled = "".join(letters).lower() or None
        return ParsedAnswer(spelled if letters and all(len(p) == 1 for p in letters) else None, spelled)
    raise ValueError(f"no answer parser for task {task!r}")
