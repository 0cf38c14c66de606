"""The study page's reading rule (a/b/c) and its constant-proof measure, on fixed bootstrap results."""

from strawberry.study.statistics import constant_level, reading

ARMS = ["spelling", "indexed", "positive_control", "format_control"]
SETTINGS = ["0shot", "spell_first_3shot"]
NULL = {"diff": 0.01, "low": -0.03, "high": 0.05, "p": 0.6}
CLEAR = {"diff": 0.2, "low": 0.12, "high": 0.28, "p": 0.0002}


def comparing(wins: dict[tuple[str, str, str], dict]):
    """A compare(a, b, task, setting, hard_only) whose clear wins are the given (arm, task, setting) cells, against
    base and format_control alike; it also checks that the rule asks for the deciding subset of each task."""

    def compare(a, b, task, s, hard_only):
        assert hard_only == (task == "position") and b in (None, "format_control")
        return wins.get((a, task, s), NULL)

    return compare


def verdict(wins, arms=ARMS, incomplete=False) -> str:
    return reading(arms, SETTINGS, comparing(wins), incomplete)[-2]


def test_reading_rule():
    assert verdict({}).startswith("**(b)**")
    assert verdict({("positive_control", "count", "0shot"): CLEAR}).startswith("**(a)** the positive control")
    text = verdict({("positive_control", "count", "0shot"): CLEAR, ("indexed", "position", "spell_first_3shot"): CLEAR})
    assert text.startswith("**(c)**") and "indexed — position, spell-first, 3-shot: +0.200 [+0.120, +0.280]" in text
    # p must clear 0.05 / 4 cells, not 0.05: one of four cells at p = 0.03 is not an improvement.
    assert verdict({("spelling", "count", "0shot"): CLEAR | {"p": 0.03}}).startswith("**(b)**")
    assert "0.05 / 4 cells = 0.0125" in reading(ARMS, SETTINGS, comparing({}), False)[2]
    assert verdict({}, incomplete=True).startswith("Provisional (arm runs are still to run): **(b)**")
    assert verdict({}, arms=ARMS[:3]) == "**Not decidable**: the reading needs runs of both controls."


def test_constant_level_is_the_best_constant_answer():
    def export(name: str, majority: float) -> dict:
        return {"name": name, "details": {"count": {"strategies": {"always_0": 0.1, "majority": majority}}}}

    assert constant_level([export("study-x-spelling-s1", 0.25)], "count") == 0.25
    # an unbalanced question set (a tiny profile): the most frequent count's share, the highest over the runs
    assert constant_level([export("study-x-spelling-s1", 0.25), export("study-x-indexed-s1", 1 / 3)], "count") == 1 / 3
    assert constant_level([export("study-x-spelling-s1", 0.25)], "position") == 0.0  # hard position: by definition
