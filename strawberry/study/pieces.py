"""Study v4's contrast at the piece (docs/study-v4-plan.md): which questions ask about a letter inside a piece the
model was trained to spell, the covered-minus-uncovered gap of one run, and the difference in differences between
an arm and its reference with runs as the unit.

A word's pieces are its tokens as the questions quote it (meta.token_split; they join to the word). A position
question is covered when the piece holding the asked letter is covered, uncovered when it is not, in neither group
when that piece is one letter (nothing to spell). A count question is covered when every occurrence of the asked
letter lies in covered pieces, uncovered when every one lies in uncovered pieces; a letter in both kinds, in a
one-letter piece, or absent (true count 0) puts the question in neither group."""

import numpy as np

from strawberry.study.statistics import seed_level, subset
from strawberry.tasks import DECIDING_HARD_ONLY, is_hard
from strawberry.tasks.position import piece_at

COVERED, UNCOVERED = "covered", "uncovered"


def position_group(pieces: list[str], position: int, covered: set[str]) -> str | None:
    piece = piece_at(pieces, position)
    if len(piece) < 2:
        return None
    return COVERED if piece.lower() in covered else UNCOVERED


def count_group(pieces: list[str], letter: str, covered: set[str]) -> str | None:
    holding = [p for p in pieces if letter.lower() in p.lower()]
    if not holding or any(len(p) < 2 for p in holding):
        return None
    kinds = {p.lower() in covered for p in holding}
    return None if len(kinds) > 1 else (COVERED if kinds == {True} else UNCOVERED)


def question_group(task: str, pieces: list[str], asked: dict, covered: set[str]) -> str | None:
    if task == "position":
        return position_group(pieces, asked["position"], covered)
    if task == "count":
        return count_group(pieces, asked["letter"], covered)
    return None


def group_sizes(questions: list[dict], covered: set[str]) -> dict[str, dict[str, int]]:
    """task -> group -> how many of these (test) questions of the task's deciding measure fall in it: the page needs
    at least a grid's `min_group` in each before any run starts."""
    sizes = {task: {COVERED: 0, UNCOVERED: 0} for task in DECIDING_HARD_ONLY}
    for q in questions:
        meta = q["meta"]
        task = meta["task"]
        if task not in sizes or (DECIDING_HARD_ONLY[task] and not is_hard(task, meta, q["output"])):
            continue
        kind = question_group(task, meta["token_split"], meta, covered)
        if kind:
            sizes[task][kind] += 1
    return sizes


def groups(cols: dict, covered: set[str]) -> list[str | None]:
    """Each question's group, in the outcome columns' order (cols["pieces"]: each question's token_split)."""
    return [question_group(t, p, a, covered) for t, p, a in zip(cols["task"], cols["pieces"], cols["asked"])]


def piece_lengths(cols: dict) -> list[int | None]:
    """The letter length of the piece a position question asks inside (None for other tasks): the covariate."""
    return [len(piece_at(p, a["position"])) if t == "position" else None
            for t, p, a in zip(cols["task"], cols["pieces"], cols["asked"])]  # fmt: skip


def gap(cols: dict, question_groups: list[str | None], task: str, min_piece: int = 0) -> dict:
    """One run's accuracy on covered and uncovered deciding questions of `task` and its gap (covered − uncovered);
    `min_piece`: position questions inside pieces of at least that many letters only."""
    mask = subset(cols, task, DECIDING_HARD_ONLY[task])
    if min_piece and task == "position":
        mask &= np.array([(n or 0) >= min_piece for n in piece_lengths(cols)])
    kinds = np.array(question_groups, dtype=object)
    correct = np.array(cols["correct"], dtype=float)
    out = {}
    for kind in (COVERED, UNCOVERED):
        keep = mask & (kinds == kind)
        out[kind] = (float(correct[keep].mean()) if keep.any() else float("nan"), int(keep.sum()))
    return out | {"gap": out[COVERED][0] - out[UNCOVERED][0]}


def difference_in_differences(arm: list[dict], reference: list[dict], covered: set[str], task: str,
                              min_piece: int = 0, alpha: float = 0.05) -> dict:  # fmt: skip
    """The arm's gap minus the reference's, runs as the unit (statistics.seed_level: Welch between two arms' runs, a
    one-sample test against one reference, base); `arm`/`reference` are outcome columns, one per run."""
    gaps = [[gap(c, groups(c, covered), task, min_piece)["gap"] for c in side] for side in (arm, reference)]
    return seed_level(*gaps, alpha=alpha) | {"arm_gaps": gaps[0], "reference_gaps": gaps[1]}
