"""How a question asks for its answer (all non-thinking: whatever work there is, is the visible reply):

- `direct`: the answer only, as the generated records ask;
- `spell_first`: the word spelled letter by letter, then the answer alone on the last line;
- `worked`: the letters one per line, numbered (for count, each hit of the asked letter with its running count),
  then one marked line "Answer: x" (nanochat SpellingBee's shape). Each letter stands after a space, so it is its
  own token in Qwen3's tokenizer (" a", as in the indexed arm).

A non-direct prompt is the direct question re-rendered with its template's sibling of that mode (data/templates:
`answer_mode: spell_first` or `worked`, id = the direct template's id + ".<mode>"); worked examples show the whole
reply in the mode's form.
"""

import re
from pathlib import Path

from strawberry.tasks import ParsedAnswer, parse_answer
from strawberry.tasks.common import template_values, worked_lines
from strawberry.templates import Template, load_template_file

MODES = ("direct", "spell_first", "worked")
MODE_TASKS = ("position", "count")  # what spell_first and worked ask (length is a side task)
UNSEEN_PREFIX = "unseen."  # template ids of the wordings of data/benchmarks/unseen.yaml
WORKED_MARGIN = 8  # tokens a reply may run past its expected length (another wording of the answer line)
ANSWER_LINE = re.compile(r"^\s*Answer:\s*(.*?)\s*$", re.IGNORECASE)


def mode_templates(templates: dict[str, list[Template]]) -> dict[str, Template]:
    """id -> template of every non-direct template (load_templates' output)."""
    return {t.id: t for ts in templates.values() for t in ts if t.answer_mode != "direct"}


def load_mode_templates(folder: str | Path) -> dict[str, Template]:
    """The non-direct templates of the position and count template files in `folder` (data/templates)."""
    return mode_templates({t: load_template_file(Path(folder) / f"{t}.yaml") for t in MODE_TASKS})


def sibling(record: dict, templates: dict[str, Template], mode: str) -> Template:
    """The `mode` template of a record: its template's sibling, else one of the same task and style (questions
    from other files, e.g. evaluate.extra), else the task's first."""
    meta = record["meta"]
    if f"{meta['template_id']}.{mode}" in templates:
        return templates[f"{meta['template_id']}.{mode}"]
    same_task = [t for t in templates.values() if t.task == meta["task"] and t.answer_mode == mode]
    if not same_task:
        raise ValueError(f"no {mode} template for task {meta['task']!r} (record {record['instruction']!r})")
    return next((t for t in same_task if t.style == meta["style"]), same_task[0])


def spelled_reply(record: dict) -> str:
    """The reply a spell_first worked example shows: the word spelled with spaces, then the answer on its own line."""
    return " ".join(record["meta"]["word"]) + "\n" + record["output"]


def worked_reply(record: dict) -> str:
    """The reply in the worked form: "1: a" per letter (count: "2: d (1)" at each hit, the running count), then
    "Answer: x"."""
    return worked_lines(record["meta"], record["output"])


REPLIES = {"spell_first": spelled_reply, "worked": worked_reply}  # a worked example's whole reply, per mode


def as_mode(record: dict, templates: dict[str, Template], mode: str, worked: bool = False) -> dict:
    """The same question asked in `mode` (output: the answer; for a worked example, the whole reply). A question in
    an unseen wording (asking.reworded) is asked as written: only its reading follows the mode."""
    meta = record["meta"]
    if meta["template_id"].startswith(UNSEEN_PREFIX) and not worked:
        return record
    template = sibling(record, templates, mode)
    out = {**record, "instruction": template.render(**template_values(meta)),
           "meta": {**meta, "template_id": template.id}}  # fmt: skip
    return out | ({"output": REPLIES[mode](record)} if worked else {})


def in_mode(questions: list[dict], shots: list[dict[str, list[dict]]], mode: str,
            templates: dict[str, Template]) -> tuple[list[dict], list[dict[str, list[dict]]]]:  # fmt: skip
    """Questions and worked-example draws as asked in `mode`; spell_first and worked ask position and count
    questions only (length is a side task)."""
    if mode == "direct":
        return questions, shots
    if mode not in MODES:
        raise ValueError(f"unknown answer mode {mode!r}; modes: {', '.join(MODES)}")
    asked = [as_mode(q, templates, mode) for q in questions if q["meta"]["task"] in MODE_TASKS]
    draws = [{task: [as_mode(s, templates, mode, worked=True) for s in draw[task]] for task in MODE_TASKS}
             for draw in shots]  # fmt: skip
    return asked, draws


def read_reply(task: str, reply: str, mode: str) -> ParsedAnswer:
    """The answer in a reply. direct: parse_answer of the whole reply. spell_first: parse_answer of its last
    non-empty line; strict also needs the spelling before it (2+ lines). worked: the last "Answer:" line, read by
    parse_answer; strict when that line is exactly "Answer: <answer>" after the work; no answer line, no answer."""
    if mode == "direct":
        return parse_answer(task, reply)
    lines = [line for line in reply.strip().splitlines() if line.strip()]
    if mode == "worked":
        marked = [i for i, line in enumerate(lines) if ANSWER_LINE.match(line)]
        if not marked:
            return ParsedAnswer(None, None)
        parsed = parse_answer(task, ANSWER_LINE.match(lines[marked[-1]]).group(1))
        return ParsedAnswer(parsed.strict if marked[-1] >= 1 else None, parsed.lenient)
    if not lines:
        return ParsedAnswer(None, None)
    parsed = parse_answer(task, lines[-1])
    return ParsedAnswer(parsed.strict if len(lines) >= 2 else None, parsed.lenient)


NUMBERED_LETTER = re.compile(r"^\s*\d+\s*[:.)]\s*([A-Za-z])\b")


def worked_spelling(reply: str) -> str:
    """The letters a worked reply spelled, in order ("1: a" lines; a mechanism diagnostic: did the reply spell the
    word right?)."""
    return "".join(m.group(1).lower() for line in reply.splitlines() if (m := NUMBERED_LETTER.match(line)))


def worked_reply_limits(tokenizer, questions: list[dict], mode: str) -> list[int] | None:
    """worked: each question's own reply limit, from its worked reply in this tokenizer's tokens (a 10-letter word's
    position reply is about half a 20-letter word's count reply); other modes: None (one limit for all)."""
    if mode != "worked" or not questions:
        return None
    replies = [worked_reply(q) for q in questions]
    # room for a misspelling half again as long as the word: a reply past that is lost anyway
    return [len(ids) * 3 // 2 + WORKED_MARGIN for ids in tokenizer(replies, add_special_tokens=False)["input_ids"]]


def mode_generation(tokenizer, questions: list[dict], generation: dict, mode: str) -> dict:
    """The decoding settings for a mode: a spell_first or worked reply limit fits the longest question word's
    reply in this tokenizer's tokens (and a margin); direct keeps the profile's."""
    if mode == "direct" or not questions:
        return generation
    if mode == "worked":  # the longest of the questions' own limits
        return {**generation, "max_new_tokens": max(generation.get("max_new_tokens", 0),
                                                     *worked_reply_limits(tokenizer, questions, mode))}  # fmt: skip
    replies = [spelled_reply(max(questions, key=lambda q: len(q["meta"]["word"])))]
    tokens = max(len(ids) for ids in tokenizer(replies, add_special_tokens=False)["input_ids"])
    return {**generation, "max_new_tokens": max(generation.get("max_new_tokens", 0), tokens + WORKED_MARGIN)}
