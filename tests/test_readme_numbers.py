"""Every study number the README states comes from the generated study page (docs/study.md)."""

import re

from tests.conftest import ROOT

NUMBER = re.compile(r"[−+-]?\d+\.\d{3}")  # the page's accuracies and differences: three decimals


def study_section(readme: str) -> str:
    """The README's study v2 section: from its heading to the next heading of the same level."""
    match = re.search(r"^### Study v2.*?(?=^### |\Z)", readme, re.S | re.M)
    assert match, "README.md has no '### Study v2' section"
    return match.group(0)


def test_readme_study_numbers_are_on_the_study_page():
    page = (ROOT / "docs" / "study.md").read_text()
    on_page = {n.replace("−", "-").lstrip("+") for n in NUMBER.findall(page)}
    stated = NUMBER.findall(study_section((ROOT / "README.md").read_text()))
    assert stated, "the README's study section states no number"
    missing = [n for n in stated if n.replace("−", "-").lstrip("+") not in on_page]
    assert not missing, f"README study numbers not on docs/study.md: {missing}"


def test_the_check_finds_a_number_that_is_not_on_the_page():
    section = study_section("## x\n\n### Study v2 (test)\n\nspelling 0.123 vs base 9.876\n\n### Next\n0.555")
    assert NUMBER.findall(section) == ["0.123", "9.876"]
