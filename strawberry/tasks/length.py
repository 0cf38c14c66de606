"""Word length: "How many letters are in 'added'?" -> "5". A side task: in the details, not the headline."""

from collections import Counter

from strawberry.tasks.common import ParsedAnswer, parse_number


def expected(meta: dict, joiners: dict[str, str]) -> str:
    return str(len(meta["word"]))


def parse(reply: str) -> ParsedAnswer:
    return parse_number(reply)


def strategies(questions: list[dict]) -> dict[str, float]:
    """Always the majority answer."""
    return {"majority": Counter(q["output"] for q in questions).most_common(1)[0][1] / len(questions)}
