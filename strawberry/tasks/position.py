"""Letter position: "What is the 3rd letter of 'added'?" -> "d". Balanced over the first, a middle and the last
letter; hard = the letter asked for is neither the word's first nor its last (no constant position gets it)."""

import random
import re

from strawberry.tasks.common import ParsedAnswer

CATEGORIES = ("first", "middle", "last")  # what position questions are balanced over (their question class)
_QUOTED_LETTER = re.compile(r"""['"‘“]([A-Za-z])['"’”]""")
_LONE_LETTER = re.compile(r"(?<![A-Za-z'])([A-Za-z])(?![A-Za-z'])")


def category(position: int, length: int) -> str:
    return "first" if position == 1 else "last" if position == length else "middle"


def pick(word: str, wanted: str, rng: random.Random) -> dict:
    """A question's meta about `word` in category `wanted`: a middle position is drawn uniformly."""
    pos = {"first": 1, "last": len(word)}.get(wanted) or rng.randint(2, len(word) - 1)
    return {"letter": word[pos - 1], "position": pos, "position_category": category(pos, len(word))}


def expected(meta: dict, joiners: dict[str, str]) -> str:
    return meta["word"][meta["position"] - 1]


def parse(reply: str) -> ParsedAnswer:
    """strict: the trimmed reply is one letter; lenient: the first quoted single letter ('A'), else the first
    letter standing alone. Letters are compared lower-case."""
    text = reply.strip()
    strict = text.lower() if len(text) == 1 and text.isalpha() else None
    match = _QUOTED_LETTER.search(text) or _LONE_LETTER.search(text)
    return ParsedAnswer(strict, match.group(1).lower() if match else None)


def question_class(meta: dict, expected: str) -> str:
    return meta["position_category"]


def is_hard(meta: dict, expected: str) -> bool:
    word = meta["word"].lower()
    return expected.lower() not in (word[0], word[-1])


def strategies(questions: list[dict]) -> dict[str, float]:
    """Always the first letter, always the last letter, a random letter of the word."""
    n = len(questions)
    words = [(q["meta"]["word"].lower(), q["output"].lower()) for q in questions]
    return {"first_letter": sum(a == w[0] for w, a in words) / n,
            "last_letter": sum(a == w[-1] for w, a in words) / n,
            "random_letter": sum(w.count(a) / len(w) for w, a in words) / n}  # fmt: skip
