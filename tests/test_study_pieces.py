"""Study v4's piece contrast on questions whose groups are known: the piece holding a letter, the groups of
position and count questions, one run's gap, and the difference in differences with runs as the unit."""

import pytest

from strawberry.study.piece_spelling import drawn_pieces, tally
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


def full_cols(covered_right: float, uncovered_right: float, answered: float = 1.0, n: int = 60) -> dict:
    """Outcome columns as an export keeps them: n hard position and n count questions about 'strawberry' in each
    group ('aw' covered: position 4 and letter 'w'; 'berry' uncovered: position 7 and letter 'b'), these shares
    right, replies that spell the word."""
    rows = []
    for right, pos, letter in ((covered_right, 4, "w"), (uncovered_right, 7, "b")):
        for task in ("position", "count"):
            for i in range(n):
                asked = {"position": pos} if task == "position" else {"letter": letter}
                rows.append((task, asked, i < right * n, i < answered * n))
    reply = "\n".join(f"{i}: {c}" for i, c in enumerate("strawberry", 1)) + "\nAnswer: w"
    return {"task": [r[0] for r in rows], "word": ["strawberry"] * len(rows), "pieces": [STRAWBERRY] * len(rows),
            "asked": [r[1] for r in rows], "hard": [True] * len(rows), "correct": [float(r[2]) for r in rows],
            "answered": [float(r[3]) for r in rows], "reply": [reply] * len(rows)}  # fmt: skip


def v4_export(arm: str, seed: int, tuned: dict, base: dict) -> dict:
    setting = "worked_3shot" if arm == "piece_spelling" else "worked_0shot"
    return {"name": f"grid-v4-tiny-seed{seed}-arm{arm}", "grid": "v4", "profile": "tiny", "arm": arm, "seed": seed,
            "precision": "fp32", "wall_s": 600, "piece_coverage": {"covered": ["aw"], "uncovered": ["berry", "str"]},
            "shortcut_levels": {"position": 0.1, "count": 0.25}, "tuned": {setting: tuned},
            "base": {"worked_3shot": base, "worked_0shot": base}}  # fmt: skip


def study(s_gaps: list[float], p_answered: float = 1.0, a_level: float = 0.6) -> list[dict]:
    base = full_cols(0.3, 0.3)
    out = []
    for seed, s_gap in zip((1, 2, 3), s_gaps):
        out.append(v4_export("worked_control", seed, full_cols(a_level + 0.01 * seed, a_level), base))
        out.append(v4_export("worked_piece_spelling", seed, full_cols(a_level + s_gap, a_level), base))
        out.append(v4_export("piece_spelling", seed, full_cols(0.3 + 0.01 * seed, 0.3, p_answered), base))
    return out


def test_the_v4_page_reads_the_family_by_the_plans_rule():
    """(c) when S's gap beats A's on both measures beyond chance, (a) when it does not, (b) when P lost the answer
    format or A does not beat base; the page shows every run's groups with their counts."""
    from strawberry.study.piece_page import render_piece_page

    won = render_piece_page(study([0.30, 0.32, 0.28]))
    assert "Reading: **(c) transfer to the spelled token**: S − A on position, S − A on count." in won, won
    assert "| S | 1 | worked_0shot | fp32 | grid-v4-tiny-seed1-armworked_piece_spelling, 10 min | 0.900 (60) | " \
        "0.600 (60) | +0.300 |" in won  # fmt: skip
    assert "| gap(S) − gap(A) | hard position | +0.300, +0.333, +0.283 | +0.017, +0.033, +0.033 | +0.278" in won
    null = render_piece_page(study([0.01, 0.03, 0.02]))
    assert "Reading: **(a) no piece-specific transfer here**" in null
    lost = render_piece_page(study([0.30, 0.32, 0.28], p_answered=0.5))
    assert "Reading: **(b) cannot tell**: an arm lost the answer format (P answered 0.500 against base's 1.000)" in lost
    weak = render_piece_page(study([0.30, 0.32, 0.28], a_level=0.32))
    assert "Reading: **(b) cannot tell**: A no longer beats base by +0.10" in weak
    partial = render_piece_page([e for e in study([0.3, 0.3, 0.3]) if e["seed"] < 3])
    assert "Runs in: A 2 of 3, S 2 of 3, P 2 of 3." in partial and "Reading: **not yet**" in partial


def test_pieces_spelled_right_inside_a_worked_reply():
    """Each piece is checked at its own positions: a slip in 'berry' leaves 'str' and 'aw' right; a reply that
    stops early gets the pieces it never reached wrong."""
    from strawberry.study.pieces import letters_right_by_piece

    def reply(letters: str) -> str:
        return "\n".join(f"{i}: {c}" for i, c in enumerate(letters, 1)) + "\nAnswer: 3"

    assert letters_right_by_piece(reply("strawberry"), STRAWBERRY) == [True, True, True]
    assert letters_right_by_piece(reply("strawbery"), STRAWBERRY) == [True, True, False]
    assert letters_right_by_piece(reply("strw"), STRAWBERRY) == [True, False, False]


def test_piece_spelling_is_scored_exactly_by_letter_length():
    """The diagnostic's score: the numbered letters joined equal the piece (case aside), tallied by length."""
    pieces = ["ab", "Abc", "abcdefg", "abcd"]
    replies = ["1: a\n2: b", "1: a\n2: b\n3: c", "1: a\n2: b\n3: c\n4: d\n5: e\n6: f", "1: a\n2: b\n3: d\n4: c"]
    tallied = tally(pieces, replies)
    assert tallied["all"] == {"right": 2, "n": 4}
    assert tallied["2"] == tallied["3"] == {"right": 1, "n": 1}
    assert tallied["6+"] == tallied["4"] == {"right": 0, "n": 1} and tallied["5"] == {"right": 0, "n": 0}
    coverage = {"covered": [f"c{i}" for i in range(10)], "uncovered": [f"u{i}" for i in range(3)]}
    drawn = drawn_pieces(coverage, seed=1, per_group=5)
    assert drawn == drawn_pieces(coverage, seed=1, per_group=5)  # every model spells the same pieces
    assert len(drawn["covered"]) == 5 and set(drawn["covered"]) <= set(coverage["covered"])
    assert drawn["uncovered"] == coverage["uncovered"]  # a group smaller than the draw: all of it


def test_the_v4_page_shows_a_word_bootstrap_beside_the_test_and_the_pieces_spelled_alone():
    """The word bootstrap (runs fixed, words resampled) brackets the observed difference; the page prints it beside
    the seed-level test, and the piece-spelling diagnostic per model where the exports carry it."""
    from strawberry.study.piece_page import render_piece_page
    from strawberry.study.pieces import gap_bootstrap

    exports = study([0.30, 0.32, 0.28])
    for e in exports:  # 30 words of the same shape, so resampling words varies the gaps
        for cols in (*e["tuned"].values(), *e["base"].values()):
            cols["word"] = [f"word{i % 30}" for i in range(len(cols["word"]))]
    s_runs = [e["tuned"]["worked_0shot"] for e in exports if e["arm"] == "worked_piece_spelling"]
    a_runs = [e["tuned"]["worked_0shot"] for e in exports if e["arm"] == "worked_control"]
    low, high = gap_bootstrap(s_runs, a_runs, {"aw"}, "position")
    assert low < 0.278 < high and high - low > 0.05
    right = tally(["aw", "awry"], ["1: a\n2: w", "1: a\n2: w\n3: r\n4: y"])
    wrong = tally(["berry", "str"], ["1: b\n2: e\n3: r\n4: y", "1: s\n2: t\n3: r"])
    for e in exports:
        e["piece_spelling"] = {"base": {"covered": wrong, "uncovered": wrong}, "tuned": {"covered": right,
                                                                                          "uncovered": wrong}}
    page = render_piece_page(exports)
    assert "word bootstrap 95% (within runs)" in page
    assert "| base | — | 0.500 (2) | 0.500 (2) | 0.000 (1) | 0.000 (1) |" in page, page
    assert "| S | 2 | 1.000 (2) | 0.500 (2) | 1.000 (1) | 0.000 (1) |" in page
