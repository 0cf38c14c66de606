from pathlib import Path

import pytest

from strawberry.templates import TemplateError, load_separators, load_template_file, load_templates

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_project_templates_load():
    templates = load_templates(TEMPLATES)
    assert set(templates) == {"spelling", "indexed", "numbered", "position", "count", "length"}
    assert {t.direction for t in templates["numbered"]} == {"forward"} and len(templates["numbered"]) == 3
    assert {t.direction for t in templates["indexed"]} == {"forward", "reverse"}
    for task in ("position", "count"):  # every direct question template has its spell_first sibling
        ids = {t.id for t in templates[task]}
        direct = [t for t in templates[task] if t.answer_mode == "direct"]
        assert direct and all(f"{t.id}.spell_first" in ids for t in direct)
    spelling = templates["spelling"]
    assert {t.category for t in spelling} == {"spelling_first", "word_first", "no_spell"}
    assert {t.style for t in spelling} == {"simple", "playful", "educational", "emphatic"}
    assert {t.direction for t in spelling} == {"forward", "reverse"}
    assert not any("spell" in t.instruction.lower() for t in spelling if t.category == "no_spell")
    assert {"space", "comma", "dash", "dots", "arrow", "none"} <= set(load_separators(TEMPLATES))


def test_malformed_yaml_names_file(tmp_path):
    path = write(tmp_path, "task: count\ntemplates: [ {id: x, style: simple\n")
    with pytest.raises(TemplateError, match=f"{path}: not valid YAML"):
        load_template_file(path)


BAD_TEMPLATES = {  # a template file with one fault -> the error, which names the file and the template
    "unknown variable": ("count", """
  - {id: count.ok, style: simple, instruction: "How many '{letter}' in '{word}'?"}
  - {id: count.needs_n, style: simple, instruction: "Is the {n}th letter of '{word}' a '{letter}'?"}""",
                         r"bad.yaml: template count.needs_n needs \{n\}.*task 'count'"),
    "unbalanced brace": ("length", """
  - {id: length.broken, style: simple, instruction: "How long is '{word'?"}""",
                         "bad.yaml: template length.broken: malformed template"),
    "schema error": ("position", """
  - {id: position.fine, style: simple, instruction: "What is the {ordinal} letter of '{word}'?"}
  - {id: position.no_style, instruction: "What is letter {n} of '{word}'?"}""",
                     "template position.no_style: .*'style' is a required property"),
    "unquoted word": ("length", """
  - {id: length.unquoted, style: simple, instruction: "How many letters in {word}?"}""",
                      "length.unquoted: evaluation templates must quote"),
    "spelling without category": ("spelling", """
  - {id: spell.x, style: simple, instruction: "Spell '{word}' {separator_hint}."}""",
                                  "spell.x: spelling templates need a category"),
    "spell_first outside position/count": ("length", """
  - {id: length.x, style: simple, answer_mode: spell_first, instruction: "How long is '{word}'?"}""",
                                           "template length.x: only position and count templates have a spell_first"),
}  # fmt: skip


@pytest.mark.parametrize("fault", BAD_TEMPLATES)
def test_bad_template_is_named(tmp_path, fault):
    task, templates, error = BAD_TEMPLATES[fault]
    path = write(tmp_path, f"task: {task}\ntemplates:{templates}\n")
    with pytest.raises(TemplateError, match=error):
        load_template_file(path)


def test_unknown_task_and_style(tmp_path):
    with pytest.raises(TemplateError, match="bad.yaml: at \\$.task"):
        load_template_file(write(tmp_path, "task: rhyme\ntemplates: [{id: a, style: simple, instruction: x}]\n"))
    with pytest.raises(TemplateError, match="template a: at .*style"):
        load_template_file(write(tmp_path, "task: length\ntemplates: [{id: a, style: rude, instruction: x}]\n"))


def test_duplicate_ids_across_files(tmp_path):
    for name in ("separators.yaml", "spelling.yaml", "position.yaml", "count.yaml", "length.yaml"):
        (tmp_path / name).write_text((TEMPLATES / name).read_text())
    write(tmp_path, (TEMPLATES / "length.yaml").read_text(), "zz_more.yaml")
    with pytest.raises(TemplateError, match="zz_more.yaml: template id length.simple.1 already defined in"):
        load_templates(tmp_path)


def test_separator_with_letters_is_refused(tmp_path):
    write(tmp_path, 'space: {joiner: " ", hint: "spaced"}\nand: {joiner: " and ", hint: "with and"}\n',
          "separators.yaml")  # fmt: skip
    with pytest.raises(TemplateError, match="separators.yaml: separator and: a joiner with letters"):
        load_separators(tmp_path)
