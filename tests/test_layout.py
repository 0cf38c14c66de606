"""docs/layout.md, the newcomer's map, stays true: every module it names exists, and every stage of dvc.yaml is in
its stages table."""

import re

import yaml

from tests.conftest import ROOT

LAYOUT = (ROOT / "docs" / "layout.md").read_text()


def named_modules(text: str) -> set[str]:
    """The `name.py` and `folder/name.py` it names in backticks."""
    return set(re.findall(r"`([\w/]+\.py)", text))


def exists(name: str) -> bool:
    return any((ROOT / folder / name).is_file() for folder in ("", "strawberry", "strawberry/study",
                                                               "strawberry/serving", "strawberry/tasks"))  # fmt: skip


def test_every_module_the_map_names_exists():
    names = named_modules(LAYOUT)
    assert len(names) > 30
    assert not sorted(n for n in names if not exists(n))


def test_every_stage_is_on_the_map():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    table = LAYOUT.split("## Stages and the shared parts they call")[1].split("##")[0]
    assert not [s for s in stages if f"`{s}`" not in table]


def test_the_check_finds_a_missing_module():
    assert not exists("calibration.py") and "study/calibration.py" in named_modules("`study/calibration.py`")
