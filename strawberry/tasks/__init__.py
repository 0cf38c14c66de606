"""One module per task (a question kind), after nanochat's tasks/: each holds how its records are made, its
expected answer, how a reply is read, its question classes, its hard subset and its constant baselines.

Question tasks (evaluated): position, count, length. Training tasks: spelling, indexed, numbered. Generation,
validation and evaluation reach a task's rules only through this package; the functions below dispatch on the task's
name.
"""

import re
from types import ModuleType

from strawberry.tasks import count, indexed, length, numbered, position, spelling
from strawberry.tasks.common import ParsedAnswer, template_values, worked_lines
from strawberry.templates import EVAL_TASKS  # the question tasks, as the template files declare them

TASKS: dict[str, ModuleType] = {"position": position, "count": count, "length": length, "spelling": spelling,
                                "indexed": indexed, "numbered": numbered}  # fmt: skip
HEADLINE_TASKS = ("position", "count")  # length is a side task: in the details, not the headline
CLASSES = {"position": position.CATEGORIES, "count": count.CLASSES}  # the strata a task is sampled and reported by
# The measure a study decides by, per headline task: hard questions only (position) or all of them (count); each is
# one that no constant answer passes (the task modules say why)
DECIDING_HARD_ONLY = {task: TASKS[task].DECIDES_ON_HARD for task in HEADLINE_TASKS}

__all__ = ["CLASSES", "DECIDING_HARD_ONLY", "EVAL_TASKS", "HEADLINE_TASKS", "TASKS", "ParsedAnswer", "confusion",
           "expected_output", "guess_task", "is_hard", "parse_answer", "question_class", "record_problem",
           "shortcut_level", "shortcuts", "strategies", "template_values"]  # fmt: skip


def _task(name: str) -> ModuleType:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}")
    return TASKS[name]


def expected_output(meta: dict, joiners: dict[str, str]) -> str:
    """The one correct output for a record, from its meta alone; `joiners` maps separator name -> joining string.
    A question answered in the worked mode (meta.answer_mode) has the whole worked reply as its output."""
    answer = _task(meta["task"]).expected(meta, joiners)
    return worked_lines(meta, answer) if meta.get("answer_mode") == "worked" else answer


def record_problem(meta: dict, joiners: dict[str, str]) -> str | None:
    """What a record's meta says wrong of itself by its task's rules (a position past the word's end, an unknown
    separator), checked before its answer is derived; None when nothing."""
    module = _task(meta["task"])
    return module.problem(meta, joiners) if hasattr(module, "problem") else None


def parse_answer(task: str, reply: str) -> ParsedAnswer:
    """The answer in a model reply, by the task's documented normalizer (docs/evaluation.md): strict = the trimmed
    reply is exactly an answer of the right kind; lenient = the first one found in it."""
    module = TASKS.get(task)
    if module is None or not hasattr(module, "parse"):
        raise ValueError(f"no answer parser for task {task!r}")
    return module.parse(reply)


def question_class(task: str, meta: dict, expected: str) -> str | None:
    """The stratum of a question: position -> first/middle/last; count -> true count 0/1/2/3+; else None."""
    module = _task(task)
    return module.question_class(meta, expected) if hasattr(module, "question_class") else None


def is_hard(task: str, meta: dict, expected: str) -> bool | None:
    """The task's hard subset: position -> the answer is neither the word's first nor its last letter; count -> the
    true count is 2 or more. None for a task without one (length)."""
    module = _task(task)
    return module.is_hard(meta, expected) if hasattr(module, "is_hard") else None


def shortcuts(task: str, fit_on: list[dict], questions: list[dict]) -> dict[str, float]:
    """Accuracy of the task's letter-only rules, fitted on `fit_on` (val questions of the task), on these questions:
    what a model scores by the letter asked (count) or the usual letter at a position (position), not the word."""
    module = _task(task)
    return module.shortcuts(fit_on, questions) if questions and fit_on and hasattr(module, "shortcuts") else {}


def strategies(task: str, questions: list[dict]) -> dict[str, float]:
    """Accuracy of the task's constant strategies on these questions (a model could follow them without knowing
    any letter)."""
    return _task(task).strategies(questions) if questions else {}


def shortcut_level(task: str, fit_on: list[dict], questions: list[dict]) -> dict:
    """What a model scores on these questions without reading the word: every constant strategy and letter-only rule
    (fitted on `fit_on`, the task's val questions), and the best of them (name, accuracy), the shortcut level."""
    scores = strategies(task, questions) | shortcuts(task, fit_on, questions)
    best = max(scores, key=scores.get)
    return {"strategies": scores, "best": best, "accuracy": scores[best]}


def confusion(task: str, rows: list[dict]) -> dict | None:
    """The task's table of true against answered class (count), or None for a task without one."""
    module = _task(task)
    return module.confusion(rows) if hasattr(module, "confusion") else None


def guess_task(question: str) -> str:
    """Which question task a free-text question asks (scripts.ask reads its answer by that task's parser)."""
    q = question.lower()
    if re.search(r"how many letters|how long|length", q):
        return "length"
    return "count" if re.search(r"how many|how often|count", q) else "position"
