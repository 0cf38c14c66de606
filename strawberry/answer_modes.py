"""How a question asks for its answer: `direct` (the answer only, as the generated records ask) or `spell_first`
(the model spells the word letter by letter in its visible reply, then gives the answer alone on its last line;
still non-thinking mode: no <think> block, the spelling is part of the reply).

spell_first prompts are the direct questions re-rendered with the spell_first sibling of their template
(data/templates: `answer_mode: spell_first`, id = the direct template's id + ".spell_first"); worked examples show
the whole reply, "a d d e d" then the answer on its own line.
"""

from strawberry.tasks import ParsedAnswer, parse_answer
from strawberry.tasks.common import ordinal
from strawberry.templates import Template

MODES = ("direct", "spell_first")
SPELL_FIRST_SUFFIX = ".spell_first"
SPELL_FIRST_TASKS = ("position", "count")


def spell_first_templates(templates: dict[str, list[Template]]) -> dict[str, Template]:
    """id -> template of every spell_first template (load_templates' output)."""
    return {t.id: t for ts in templates.values() for t in ts if t.answer_mode == "spell_first"}


def sibling(record: dict, spell_first: dict[str, Template]) -> Template:
    """The spell_first template of a record: its template's sibling, else one of the same task and style (questions
    from other files, e.g. evaluate.extra), else the task's first."""
    meta = record["meta"]
    if meta["template_id"] + SPELL_FIRST_SUFFIX in spell_first:
        return spell_first[meta["template_id"] + SPELL_FIRST_SUFFIX]
    same_task = [t for t in spell_first.values() if t.task == meta["task"]]
    if not same_task:
        raise ValueError(f"no spell_first template for task {meta['task']!r} (record {record['instruction']!r})")
    return next((t for t in same_task if t.style == meta["style"]), same_task[0])


def spelled_reply(record: dict) -> str:
    """The reply a spell_first worked example shows: the word spelled with spaces, then the answer on its own line."""
    return " ".join(record["meta"]["word"]) + "\n" + record["output"]


def as_spell_first(record: dict, spell_first: dict[str, Template], worked: bool = False) -> dict:
    """The same question asked in spell_first mode (output: the answer; for a worked example, the whole reply)."""
    meta = record["meta"]
    template = sibling(record, spell_first)
    values = {"word": meta["word"], "letter": meta.get("letter"), "n": meta.get("position"),
              "ordinal": ordinal(meta["position"]) if meta.get("position") else None}  # fmt: skip
    out = {**record, "instruction": template.render(**values), "meta": {**meta, "template_id": template.id}}
    return out | ({"output": spelled_reply(record)} if worked else {})


def in_mode(questions: list[dict], shots: list[dict[str, list[dict]]], mode: str,
            spell_first: dict[str, Template]) -> tuple[list[dict], list[dict[str, list[dict]]]]:  # fmt: skip
    """Questions and worked-example draws as asked in `mode`; spell_first asks position and count questions only
    (length is a side task)."""
    if mode == "direct":
        return questions, shots
    if mode != "spell_first":
        raise ValueError(f"unknown answer mode {mode!r}; modes: {', '.join(MODES)}")
    asked = [as_spell_first(q, spell_first) for q in questions if q["meta"]["task"] in SPELL_FIRST_TASKS]
    draws = [{task: [as_spell_first(s, spell_first, worked=True) for s in draw[task]] for task in SPELL_FIRST_TASKS}
             for draw in shots]  # fmt: skip
    return asked, draws


def read_reply(task: str, reply: str, mode: str) -> ParsedAnswer:
    """The answer in a reply. direct: parse_answer of the whole reply. spell_first: parse_answer of its last
    non-empty line; strict also needs the spelling before it (2+ lines), so an answer alone is not strict."""
    if mode == "direct":
        return parse_answer(task, reply)
    lines = [line for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return ParsedAnswer(None, None)
    parsed = parse_answer(task, lines[-1])
    return ParsedAnswer(parsed.strict if len(lines) >= 2 else None, parsed.lenient)


def reply_limit(tokenizer, questions: list[dict], generation: dict, mode: str) -> dict:
    """The decoding settings for a mode: spell_first's reply limit fits the longest question word spelled out,
    plus the answer line, in this tokenizer's tokens (and a margin); direct keeps the profile's."""
    if mode == "direct" or not questions:
        return generation
    longest = max(questions, key=lambda q: len(q["meta"]["word"]))
    tokens = len(tokenizer(spelled_reply(longest), add_special_tokens=False)["input_ids"])
    return {**generation, "max_new_tokens": max(generation.get("max_new_tokens", 0), tokens + 8)}
