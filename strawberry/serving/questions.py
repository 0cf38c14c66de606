"""The question each endpoint asks: one fixed template per task from data/templates (the same files that wrote
the training and evaluation data), and the true answer computed from the word."""

from functools import cache
from pathlib import Path

from strawberry.tasks import expected_output, parse_answer
from strawberry.tasks.common import template_values
from strawberry.templates import load_separators, load_templates

TEMPLATES = Path(__file__).resolve().parents[2] / "data" / "templates"
TEMPLATE_IDS = {"spelling": "spell.first.simple.1", "position": "position.simple.1", "count": "count.simple.1"}
SPELLING_SEPARATOR = "space"


@cache
def _templates() -> dict:
    by_id = {t.id: t for task in load_templates(TEMPLATES).values() for t in task}
    return {task: by_id[template_id] for task, template_id in TEMPLATE_IDS.items()}


@cache
def _separators() -> dict:
    return load_separators(TEMPLATES)


def question(task: str, word: str, position: int | None = None, letter: str | None = None) -> dict:
    """An Alpaca record (instruction, input, output, meta) like the generated data's, for one request."""
    template = _templates()[task]
    meta: dict = {"task": task, "word": word, "template": template.id}
    if task == "spelling":
        separator = _separators()[SPELLING_SEPARATOR]
        instruction = template.render(word=word, separator_hint=separator.hint)
        meta |= {"separator": SPELLING_SEPARATOR, "direction": "forward"}
    else:
        meta |= {"position": position} if task == "position" else {"letter": letter}
        instruction = template.render(**template_values(meta))
    joiners = {name: s.joiner for name, s in _separators().items()}
    return {"instruction": instruction, "input": "", "output": expected_output(meta, joiners), "meta": meta}


def answer_of(record: dict, reply: str) -> str | None:
    """The answer in a reply, by the evaluation's parser (spelling: the letters, in order)."""
    return parse_answer(record["meta"]["task"], reply).lenient


def expected_answer(record: dict) -> str:
    """The true answer in the parsed answer's form (a spelled word compares as its letters)."""
    if record["meta"]["task"] == "spelling":
        return record["meta"]["word"]
    return record["output"]
