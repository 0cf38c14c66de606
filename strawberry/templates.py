"""Prompt templates are data (data/templates/*.yaml); this module loads and checks them and renders prompts."""

import string
from dataclasses import dataclass
from pathlib import Path

import yaml
from jsonschema.exceptions import best_match

from strawberry.records import TEMPLATE_FILE_SCHEMA, schema_error, validator

# What the generator can supply to a template, per task.
TASK_VARIABLES: dict[str, frozenset[str]] = {
    "spelling": frozenset({"word", "separator_hint"}),
    "indexed": frozenset({"word"}),
    "numbered": frozenset({"word"}),
    "position": frozenset({"word", "ordinal", "n"}),
    "count": frozenset({"word", "letter"}),
    "length": frozenset({"word"}),
}
EVAL_TASKS = ("position", "count", "length")
# Evaluation prompts quote the word this way; extract_tokens' word_context tokenizes words the same way.
QUOTED_WORD = "'{word}'"


class TemplateError(ValueError):
    """A malformed template file or template; the message names the file and the template."""


def check_template_file(data: object, where: str) -> None:
    """A loaded template file against its JSON Schema; the error names the file and, where it can, the template."""
    error = schema_error(data, TEMPLATE_FILE_SCHEMA)
    if error is None:
        return
    # Name the template when the error sits inside one.
    if isinstance(data, dict) and isinstance(data.get("templates"), list):
        bad = best_match(validator(TEMPLATE_FILE_SCHEMA).iter_errors(data))
        if len(bad.absolute_path) >= 2 and bad.absolute_path[0] == "templates":
            entry = data["templates"][bad.absolute_path[1]]
            name = entry.get("id") if isinstance(entry, dict) else None
            where = f"{where}: template {name or '#' + str(bad.absolute_path[1] + 1)}"
    raise TemplateError(f"{where}: {error}")


@dataclass(frozen=True)
class Template:
    id: str
    task: str
    style: str
    instruction: str
    file: str
    category: str | None = None  # spelling: spelling_first / word_first / no_spell
    direction: str = "forward"  # spelling, indexed: forward / reverse
    answer_mode: str = "direct"  # position, count: "direct" (generated as records), "spell_first" or "worked"

    def render(self, **values: object) -> str:
        return self.instruction.format(**values)


@dataclass(frozen=True)
class Separator:
    name: str
    joiner: str
    hint: str  # how the instruction asks for it, e.g. "separated by commas"


def template_variables(instruction: str, where: str) -> set[str]:
    """Names of the {variables} in an instruction; malformed braces or {x.attr}/{x:spec} are errors."""
    try:
        fields = list(string.Formatter().parse(instruction))
    except ValueError as e:
        raise TemplateError(f"{where}: malformed template ({e}): {instruction!r}") from None
    names = set()
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"{where}: unsupported placeholder {{{name}}} in {instruction!r}")
        names.add(name)
    return names


def _load_yaml(path: Path) -> object:
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise TemplateError(f"{path}: not valid YAML: {e}") from None


def load_template_file(path: Path) -> list[Template]:
    data = _load_yaml(path)
    check_template_file(data, str(path))
    task = data["task"]
    templates = []
    for entry in data["templates"]:
        where = f"{path}: template {entry['id']}"
        used = template_variables(entry["instruction"], where)
        unknown = used - TASK_VARIABLES[task]
        if unknown:
            raise TemplateError(
                f"{where} needs {', '.join('{' + v + '}' for v in sorted(unknown))}, which the generator "
                f"cannot supply for task '{task}' (it supplies {', '.join(sorted(TASK_VARIABLES[task]))})"
            )
        if "word" not in used:
            raise TemplateError(f"{where} never mentions {{word}}")
        if task in EVAL_TASKS and QUOTED_WORD not in entry["instruction"]:
            raise TemplateError(f"{where}: evaluation templates must quote the word as {QUOTED_WORD}")
        if task == "spelling" and "category" not in entry:
            raise TemplateError(f"{where}: spelling templates need a category")
        if entry.get("answer_mode", "direct") != "direct" and task not in ("position", "count"):
            raise TemplateError(f"{where}: only position and count templates have a spell_first or worked answer mode")
        templates.append(Template(task=task, file=str(path), **entry))
    return templates


def load_templates(directory: str | Path) -> dict[str, list[Template]]:
    """All template files of a directory (except separators.yaml), grouped by task; ids must be unique."""
    directory = Path(directory)
    by_task: dict[str, list[Template]] = {task: [] for task in TASK_VARIABLES}
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == SEPARATORS_FILE:
            continue
        for template in load_template_file(path):
            if template.id in seen:
                raise TemplateError(f"{path}: template id {template.id} already defined in {seen[template.id]}")
            seen[template.id] = str(path)
            by_task[template.task].append(template)
    missing = [task for task, templates in by_task.items() if not templates]
    if missing:
        raise TemplateError(f"{directory}: no templates for task(s) {', '.join(missing)}")
    return by_task


SEPARATORS_FILE = "separators.yaml"


def load_separators(directory: str | Path) -> dict[str, Separator]:
    """Separator styles for spelled output, defined in data/templates/separators.yaml."""
    path = Path(directory) / SEPARATORS_FILE
    data = _load_yaml(path)
    if not isinstance(data, dict) or not data:
        raise TemplateError(f"{path}: expected a mapping of separator name -> {{joiner, hint}}")
    separators = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"joiner", "hint"}:
            raise TemplateError(f"{path}: separator {name} needs exactly the keys joiner and hint")
        if not all(isinstance(v, str) for v in entry.values()):
            raise TemplateError(f"{path}: separator {name}: joiner and hint must be strings")
        if any(c.isalpha() for c in entry["joiner"]):
            raise TemplateError(f"{path}: separator {name}: a joiner with letters would corrupt the spelling")
        separators[name] = Separator(name=name, **entry)
    return separators
