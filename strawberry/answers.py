"""Answers derived from a record's meta alone (used by validate, independently of the generator)."""

from typing import Any


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def position_category(position: int, length: int) -> str:
    return "first" if position == 1 else "last" if position == length else "middle"


def expected_output(meta: dict[str, Any], joiners: dict[str, str]) -> str:
    """The one correct output for a record, from its meta; `joiners` maps separator name -> joining string."""
    word, task = meta["word"], meta["task"]
    if task == "spelling":
        letters = list(word)
        if meta["direction"] == "reverse":
            letters.reverse()
        return joiners[meta["separator"]].join(letters)
    if task == "position":
        return word[meta["position"] - 1]
    if task == "count":
        return str(word.count(meta["letter"]))
    if task == "length":
        return str(len(word))
    raise ValueError(f"unknown task {task!r}")
