"""Study v4's piece contrast on questions whose groups are known: the piece holding a letter, the groups of
position and count questions, one run's gap, and the difference in differences with runs as the unit."""

import pytest

from strawberry.study.pieces import COVERED, UNCOVERED, count_group, difference_in_differences, gap, groups, piece_at

# 'strawberry' as Qwen3 quotes it: str + aw + berry; 'kayak': k + ayak
STRAWBERRY, KAYAK = ["str", "aw", "berry"], ["k", "ayak"]


def test_the_piece_holding_a_letter():
    assert [piece_at(STRAWBERRY, n) for n in (1, 3, 4, 5, 6, 10)] == ["str", "str", "aw", "aw", "berry", "berry"]
    with pytest.raises(ValueError, match="past the end"):
        piece_at(STRAWBERRY, 11)


def test_count_questions_are_covered_only_when_every_occurrence_is():
    assert count_group(STRAWBERRY, "r", {"str", "berry"}) == COVERED  # r in str and berry, both covered
    assert count_group(STRAWBERRY, "r", {"str"}) is None  # one covered, one not: mixed
    assert count_group(STRAWBERRY, "r", {"aw"}) == UNCOVERED
    assert count_group(STRAWBERRY, "z", {"str"}) is None  # absent: count 0
    assert count_group(KAYAK, "k", {"ayak"}) is None  # one k sits in a one-letter piece


def cols(rows: list[tuple[str, list[str], dict, bool]]) -> dict:
    return {"task": [r[0] for r in rows], "pieces": [r[1] for r in rows], "asked": [r[2] for r in rows],
            "hard": [True] * len(rows), "correct": [float(r[3]) for r in rows]}  # fmt: skip


def run(covered_right: float, uncovered_right: float, n: int = 100) -> dict:
    """Position questions: n about the 4th letter of strawberry (in 'aw', covered), n about its 7th ('berry',
    uncovered), with these shares right."""
    rows = [("position", STRAWBERRY, {"position": 4}, i < covered_right * n) for i in range(n)]
    rows += [("position", STRAWBERRY, {"position": 7}, i < uncovered_right * n) for i in range(n)]
    return cols(rows)


def test_one_runs_gap_and_the_long_piece_covariate():
    one = run(0.6, 0.4)
    found = gap(one, groups(one, {"aw"}), "position")
    assert found[COVERED] == (0.6, 100) and found[UNCOVERED] == (0.4, 100) and found["gap"] == pytest.approx(0.2)
    long_only = gap(one, groups(one, {"aw"}), "position", min_piece=4)  # 'aw' has 2 letters: only 'berry' is left
    assert long_only[COVERED][1] == 0 and long_only[UNCOVERED] == (0.4, 100)


def test_difference_in_differences_with_runs_as_the_unit():
    arm = [run(0.6, 0.4), run(0.62, 0.4), run(0.58, 0.4)]  # gaps 0.20, 0.22, 0.18
    reference = [run(0.45, 0.4), run(0.43, 0.4), run(0.47, 0.4)]  # gaps 0.05, 0.03, 0.07
    found = difference_in_differences(arm, reference, {"aw"}, "position")
    assert found["diff"] == pytest.approx(0.15) and found["p"] < 0.01 and found["low"] > 0
    assert found["arm_gaps"] == pytest.approx([0.2, 0.22, 0.18])
    against_base = difference_in_differences(arm, [run(0.5, 0.4)], {"aw"}, "position")  # base: one fixed gap
    assert against_base["diff"] == pytest.approx(0.1) and against_base["n_right"] == 1
    same = difference_in_differences(arm, arm, {"aw"}, "position")
    assert same["diff"] == pytest.approx(0) and same["p"] == pytest.approx(1)


def test_group_sizes_count_the_deciding_questions_by_where_the_asked_letter_sits():
    """Hard position questions by the piece holding the letter; count questions by where every occurrence lies (a
    letter in both kinds of piece, or absent, is in neither group); an easy position question is not counted."""
    from strawberry.study.pieces import group_sizes

    def q(task: str, output: str, **meta) -> dict:
        return {"output": output, "meta": {"task": task, "word": "strawberry", "token_split": ["str", "aw", "berry"],
                                           **meta}}  # fmt: skip

    questions = [q("position", "w", position=5), q("position", "e", position=7), q("position", "s", position=1),
                 q("count", "3", letter="r"), q("count", "1", letter="w"), q("count", "1", letter="b"),
                 q("count", "0", letter="z")]  # fmt: skip
    sizes = group_sizes(questions, {"aw", "str"})  # r: in "str" and "berry", a mixed count question
    assert sizes == {"position": {"covered": 1, "uncovered": 1}, "count": {"covered": 1, "uncovered": 1}}
