"""Every study number the README and the study history state comes from where they say: study v3's from its generated
page (docs/study.md; the README's tables row for row, so each number is in its arm's column), study v2's from its
archived page (docs/study-v2.md), the default-run table cell by cell from metrics/eval_details.json (which
metrics/eval.json's headline is cut from)."""

import json
import re

import pytest

from tests.conftest import ROOT

# the page's accuracies and differences: three decimals, not the start of a longer number ("0.0083" is not "0.008")
NUMBER = re.compile(r"(?<![\d.])[−+-]?\d+\.\d{3}(?![\d])")


README = ROOT / "README.md"
HISTORY = ROOT / "docs" / "study-history.md"  # the studies' narrative, moved out of the README


def study_section(text: str, version: str = "v2", level: str = "##") -> str:
    """A document's section of a study: from its heading to the next heading of the same level or above."""
    match = re.search(rf"^{level} Study {version}.*?(?=^#{{1,{len(level)}}} |\Z)", text, re.S | re.M)
    assert match, f"no '{level} Study {version}' section"
    return match.group(0)


def not_on(page: str, text: str) -> list[str]:
    on_page = {n.replace("−", "-").lstrip("+") for n in NUMBER.findall(page)}
    return [n for n in NUMBER.findall(text) if n.replace("−", "-").lstrip("+") not in on_page]


def answer_paragraph(readme: str) -> str:
    match = re.search(r"^\*\*The answer so far\*\*.*?(?=\n\n)", readme, re.S | re.M)
    assert match, "README.md has no '**The answer so far**' paragraph"
    return match.group(0)


def test_study_v2_numbers_are_on_its_archived_page():
    section = study_section(HISTORY.read_text())
    assert NUMBER.findall(section), "the study history's v2 section states no number"
    missing = not_on((ROOT / "docs" / "study-v2.md").read_text(), section)
    assert not missing, f"study v2 numbers not on docs/study-v2.md: {missing}"


def test_study_v3_numbers_are_on_its_generated_page():
    """Study v3's figures in the README and the history come from docs/study.md (python -m scripts.study page)."""
    page = (ROOT / "docs" / "study.md").read_text()
    readme = README.read_text()
    for text in (study_section(HISTORY.read_text(), "v3"), study_section(readme, "v3", "###"),
                 answer_paragraph(readme)):  # fmt: skip
        assert NUMBER.findall(text)
        assert not not_on(page, text), f"study v3 numbers not on docs/study.md: {not_on(page, text)}"


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and not set(line) <= set("|- ")]


def test_readme_study_tables_are_rows_of_the_page():
    """Each row of the README's study v3 tables is a row of docs/study.md, letter for letter: every number stands in
    its arm's (and comparison's) column."""
    page_rows = set(table_rows((ROOT / "docs" / "study.md").read_text()))
    rows = table_rows(study_section(README.read_text(), "v3", "###"))
    assert len(rows) >= 9, rows  # two headers, base and four arms, four comparisons
    assert not [r for r in rows if r not in page_rows]


def test_study_v4_numbers_and_rows_are_on_its_generated_page():
    """The README's study v4 section: every number on docs/study-v4.md, every table row one of its rows."""
    page = (ROOT / "docs" / "study-v4.md").read_text()
    section = study_section(README.read_text(), "v4", "###")
    assert NUMBER.findall(section) and not not_on(page, section), not_on(page, section)
    assert not [r for r in table_rows(section) if r not in set(table_rows(page))]


def test_the_row_check_finds_a_number_in_another_arms_row():
    page_rows = set(table_rows((ROOT / "docs" / "study.md").read_text()))
    row = next(r for r in page_rows if r.startswith("| B worked_spelling"))
    assert row.replace("| B worked_spelling", "| A worked_control") not in page_rows


def test_the_check_finds_a_number_that_is_not_on_the_page():
    section = study_section("# x\n\n## Study v2 (test)\n\nspelling 0.123 vs base 9.876\n\n## Next\n0.555")
    assert NUMBER.findall(section) == ["0.123", "9.876"]
    assert not_on("0.123", section) == ["9.876"]


def test_the_check_does_not_read_a_longer_number_as_a_shorter_one():
    assert NUMBER.findall("p < 0.0083, 0.008, 12.3456, +0.054") == ["0.008", "+0.054"]


# -- the default-run table ----------------------------------------------------------------------------------------

CELL = re.compile(r"[−+-]?\d+\.\d+|< ?\d+\.\d+")


def agrees(text: str, value: float) -> bool:
    """A number as the README prints it agrees with the metric: equal at the printed precision ("< 0.001": below)."""
    text = text.replace("−", "-").replace(" ", "")
    if text.startswith("<"):
        return value < float(text[1:])
    if "." not in text:  # a count (n)
        return int(text) == value
    decimals = len(text.split(".")[1])
    return abs(value - float(text)) <= 0.5 * 10**-decimals + 1e-9


def setting_key(label: str) -> str:
    """"direct, 0-shot" -> "0shot"; "spell-first, 3-shot" -> "spell_first_3shot" (metrics' names)."""
    mode, shots = (part.strip() for part in label.split(","))
    key = shots.replace("-shot", "shot")
    return key if mode == "direct" else f"{mode.replace('-', '_')}_{key}"


def default_run_rows(readme: str) -> list[list[str]]:
    match = re.search(r"^### Default run.*?(?=^### |^## |\Z)", readme, re.S | re.M)
    assert match, "README.md has no '### Default run' section"
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in match.group(0).splitlines()
            if line.startswith("| position") or line.startswith("| count")]  # fmt: skip
    assert rows, "the default-run section has no table rows"
    return rows


def row_problems(row: list[str], details: dict) -> list[str]:
    """What in one table row disagrees with metrics/eval_details.json."""
    task, label, base, tuned, strict, strategy, hard, delta = row
    cell = details["test"][task][setting_key(label)]
    expected = [
        (base, [cell["base"]["accuracy"], cell["base"]["ci_low"], cell["base"]["ci_high"]]),
        (tuned, [cell["tuned"]["accuracy"], cell["tuned"]["ci_low"], cell["tuned"]["ci_high"]]),
        (strict, [cell["base"]["strict_accuracy"], cell["tuned"]["strict_accuracy"]]),
        (strategy, [details["test"][task]["strategy_baseline"]["accuracy"]]),
        (hard, [cell["hard"]["base"]["accuracy"], cell["hard"]["tuned"]["accuracy"], cell["hard"]["base"]["n"]]),
        (delta, [cell["delta"], cell["mcnemar_p"]]),
    ]
    problems = []
    for text, values in expected:
        numbers = CELL.findall(text) if text is not hard else [*CELL.findall(text), re.findall(r"\((\d+)\)", text)[0]]
        if len(numbers) != len(values) or not all(agrees(n, v) for n, v in zip(numbers, values)):
            problems.append(f"{task}, {label}: {text!r} but the metrics say {[round(v, 4) for v in values]}")
    return problems


def test_readme_default_run_table_is_the_metrics():
    details = json.loads((ROOT / "metrics" / "eval_details.json").read_text())
    headline = json.loads((ROOT / "metrics" / "eval.json").read_text())
    rows = default_run_rows((ROOT / "README.md").read_text())
    stated = {(r[0], setting_key(r[1])) for r in rows}
    assert stated == {(t, s) for t in headline if t != "profile" for s in headline[t]}  # every headline cell, once
    problems = [p for row in rows for p in row_problems(row, details)]
    assert not problems, "\n".join(problems)


def test_the_table_check_finds_a_number_off_by_its_last_digit():
    details = json.loads((ROOT / "metrics" / "eval_details.json").read_text())
    row = default_run_rows((ROOT / "README.md").read_text())[0]
    assert not row_problems(row, details)
    base = CELL.findall(row[2])[0]
    wrong = base[:-1] + str((int(base[-1]) + 2) % 10)
    assert row_problems([row[0], row[1], row[2].replace(base, wrong, 1), *row[3:]], details)
    with pytest.raises(KeyError):
        row_problems([row[0], "direct, 7-shot", *row[2:]], details)


# -- the study section: a number quoted for an arm is in that arm's column --------------------------------------

ARM_CLAIM = re.compile(r"\b(base|spelling|indexed|positive control|format control) "
                       r"(\d+\.\d{3}(?: ± \d+\.\d{3})?)(?![\d])")  # "spelling 0.266 ± 0.016"
ARM_COLUMN = {"base": "base", "spelling": "spelling", "indexed": "indexed",
              "positive control": "positive_control (control)",
              "format control": "format_control (control)"}  # fmt: skip


def cells_by_column(page: str) -> dict[str, set[str]]:
    """Every accuracy table of the study page: column header -> the cells under it."""
    columns: dict[str, set[str]] = {}
    header: list[str] = []
    for line in page.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not header:
            header = cells
        elif not set(line) <= set("|-"):
            for name, cell in zip(header, cells):
                columns.setdefault(name, set()).add(cell)
    return columns


def misquoted(readme_section: str, page: str) -> list[str]:
    columns = cells_by_column(page)
    return [f"{arm} {value}" for arm, value in ARM_CLAIM.findall(" ".join(readme_section.split()))
            if value not in columns.get(ARM_COLUMN[arm], set())]  # fmt: skip


def test_study_v2_numbers_quoted_for_an_arm_are_that_arms():
    page = (ROOT / "docs" / "study-v2.md").read_text()
    section = study_section(HISTORY.read_text())
    assert ARM_CLAIM.findall(" ".join(section.split())), "the check found no arm-labelled number to check"
    assert not misquoted(section, page), misquoted(section, page)


def test_the_arm_check_finds_a_number_given_to_the_wrong_arm():
    page = (ROOT / "docs" / "study-v2.md").read_text()
    section = study_section(HISTORY.read_text())
    arm, value = ARM_CLAIM.findall(" ".join(section.split()))[1]
    other = "indexed" if arm != "indexed" else "spelling"
    swapped = section.replace(f"{arm} {value}", f"{other} {value}", 1)
    assert misquoted(swapped, page) == [f"{other} {value}"]
