"""Letter position: "What is the 3rd letter of 'added'?" -> "d". Balanced over the first, a middle and the last
letter; hard = the letter asked for is neither the word's first nor its last (no constant position gets it)."""

import random
import re
from collections import Counter

from strawberry.tasks.common import ParsedAnswer

CATEGORIES = ("first", "middle", "last")  # what position questions are balanced over (their question class)
_QUOTED_LETTER = re.compile(r"""['"‘“]([A-Za-z])['"’”]""")
_LONE_LETTER = re.compile(r"(?<![A-Za-z'])([A-Za-z])(?![A-Za-z'])")
_PRONOUN_I = re.compile(r"\bI(?=\s+[a-z])")  # "I think it is e": the pronoun, not an answer
_WORD = re.compile(r"[A-Za-z]{2,}")


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
    letter standing alone that is not the pronoun "I". A spelling ("s t r a", three or more lone letters and more
    of them than words, as a reply cut off while spelling) holds no answer. Letters are compared lower-case."""
    text = reply.strip()
    strict = text.lower() if len(text) == 1 and text.isalpha() else None
    quoted = _QUOTED_LETTER.search(text)
    if quoted:
        return ParsedAnswer(strict, quoted.group(1).lower())
    lone = _LONE_LETTER.findall(_PRONOUN_I.sub(" ", text))
    if len(lone) >= 3 and len(lone) > len(_WORD.findall(text)):
        return ParsedAnswer(strict, None)
    return ParsedAnswer(strict, lone[0].lower() if lone else None)


def question_class(meta: dict, expected: str) -> str:
    return meta["position_category"]


def is_hard(meta: dict, expected: str) -> bool:
    word = meta["word"].lower()
    return expected.lower() not in (word[0], word[-1])


DECIDES_ON_HARD = True  # a study decides on the hard questions: no constant position gets them


def problem(meta: dict, joiners: dict[str, str]) -> str | None:
    """What a position record's meta says wrong of itself, or None."""
    if meta["position"] > len(meta["word"]):
        return f"position {meta['position']} is past the end of {meta['word']!r}"
    if meta["letter"] != meta["word"][meta["position"] - 1]:
        return f"meta.letter {meta['letter']!r} is not letter {meta['position']} of {meta['word']!r}"
    return None


def piece_at(pieces: list[str], position: int) -> str:
    """The piece (token) of a word holding its `position`-th letter (1-based); pieces join to the word."""
    end = 0
    for piece in pieces:
        end += len(piece)
        if position <= end:
            return piece
    raise ValueError(f"position {position} is past the end of {''.join(pieces)!r}")


def asked_piece_length(meta: dict) -> int:
    """The letter length of the token holding the asked position (CharBench's covariate)."""
    return len(piece_at(meta["token_split"], meta["position"]))


def strategies(questions: list[dict]) -> dict[str, float]:
    """Always the first letter, always the last letter, a random letter of the word."""
    n = len(questions)
    words = [(q["meta"]["word"].lower(), q["output"].lower()) for q in questions]
    return {"first_letter": sum(a == w[0] for w, a in words) / n,
            "last_letter": sum(a == w[-1] for w, a in words) / n,
            "random_letter": sum(w.count(a) / len(w) for w, a in words) / n}  # fmt: skip


def shortcuts(fit_on: list[dict], questions: list[dict]) -> dict[str, float]:
    """Accuracy of the letter-only rule fitted on `fit_on` (val): for a word of this length and this position, the
    letter most often asked there (falling back to the position's category, then to the most frequent letter)."""
    by_cell: dict[tuple, Counter] = {}
    for q in fit_on:
        meta = q["meta"]
        letter = q["output"].lower()
        for key in ((meta["length"], meta["position"]), meta["position_category"], ()):
            by_cell.setdefault(key, Counter())[letter] += 1
    rule = {key: counts.most_common(1)[0][0] for key, counts in by_cell.items()}

    def guess(meta: dict) -> str | None:
        for key in ((meta["length"], meta["position"]), meta["position_category"], ()):
            if key in rule:
                return rule[key]
        return None

    right = sum(guess(q["meta"]) == q["output"].lower() for q in questions)
    return {"letter_by_length_and_position": right / len(questions)}
