"""Study v4's contrast at the piece (docs/study-v4-plan.md): which questions ask about a letter inside a piece the
model was trained to spell, the covered-minus-uncovered gap of one run, and the difference in differences between
an arm and its reference with runs as the unit.

A word's pieces are its tokens as the questions quote it (meta.token_split; they join to the word). A position
question is covered when the piece holding the asked letter is covered, uncovered when it is not, in neither group
when that piece is one letter (nothing to spell). A count question is covered when every occurrence of the asked
letter lies in covered pieces, uncovered when every one lies in uncovered pieces; a letter in both kinds, in a
one-letter piece, or absent (true count 0) puts the question in neither group."""

import numpy as np

from strawberry.answer_modes import worked_spelling
from strawberry.study.statistics import BOOTSTRAP, seed_level, subset
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
    correct = np.array(cols["correct"], dtype=float)
    out = {}
    for kind, keep in group_masks(cols, question_groups, task, min_piece).items():
        out[kind] = (float(correct[keep].mean()) if keep.any() else float("nan"), int(keep.sum()))
    return out | {"gap": out[COVERED][0] - out[UNCOVERED][0]}


def group_masks(cols: dict, question_groups: list[str | None], task: str, min_piece: int = 0) -> dict[str, np.ndarray]:
    """Covered / uncovered -> which questions are deciding questions of `task` in that group (`min_piece`: position
    questions inside pieces of at least that many letters only)."""
    mask = subset(cols, task, DECIDING_HARD_ONLY[task])
    if min_piece and task == "position":
        mask &= np.array([(n or 0) >= min_piece for n in piece_lengths(cols)])
    kinds = np.array(question_groups, dtype=object)
    return {kind: mask & (kinds == kind) for kind in (COVERED, UNCOVERED)}


def difference_in_differences(arm: list[dict], reference: list[dict], covered: set[str], task: str,
                              min_piece: int = 0, alpha: float = 0.05) -> dict:  # fmt: skip
    """The arm's gap minus the reference's, runs as the unit (statistics.seed_level: Welch between two arms' runs, a
    one-sample test against one reference, base); `arm`/`reference` are outcome columns, one per run."""
    gaps = [[gap(c, groups(c, covered), task, min_piece)["gap"] for c in side] for side in (arm, reference)]
    return seed_level(*gaps, alpha=alpha) | {"arm_gaps": gaps[0], "reference_gaps": gaps[1]}


def gap_bootstrap(arm: list[dict], reference: list[dict], covered: set[str], task: str, min_piece: int = 0,
                  n: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:  # fmt: skip
    """A 95% interval of the difference in differences from resampling words (each word's questions together),
    runs fixed: the precision that the questions asked give each run's gap. Printed beside the seed-level test,
    never as the test (it knows nothing of the spread between seeds)."""
    words = arm[0]["word"]
    if any(c["word"] != words for c in arm + reference):
        raise ValueError("the word bootstrap needs every run's outcomes over the same questions, in the same order")
    _, word_index = np.unique(np.array(words), return_inverse=True)
    n_words = word_index.max() + 1

    def per_word(values: np.ndarray) -> np.ndarray:  # questions -> words: each word's questions summed
        return np.bincount(word_index, weights=values, minlength=n_words)

    sums = []  # per side: (right, asked) per run x word, for covered and for uncovered questions
    for side in (arm, reference):
        both = {COVERED: ([], []), UNCOVERED: ([], [])}
        for c in side:
            masks = group_masks(c, groups(c, covered), task, min_piece)
            for kind, (right, asked) in both.items():
                keep = masks[kind].astype(float)
                right.append(per_word(keep * np.array(c["correct"], dtype=float)))
                asked.append(per_word(keep))
        sums.append({kind: (np.array(r).T, np.array(a).T) for kind, (r, a) in both.items()})
    rng = np.random.default_rng(seed)
    draws = []
    for size in [1000] * (n // 1000) + [n % 1000]:
        weights = rng.multinomial(n_words, np.full(n_words, 1 / n_words), size=size)  # words drawn with replacement
        with np.errstate(invalid="ignore", divide="ignore"):
            gaps = [np.mean((weights @ s[COVERED][0]) / (weights @ s[COVERED][1])
                            - (weights @ s[UNCOVERED][0]) / (weights @ s[UNCOVERED][1]), axis=1) for s in sums]
        draws.append(gaps[0] - gaps[1])
    low, high = np.nanpercentile(np.concatenate(draws), [2.5, 97.5])
    return float(low), float(high)


# -- study v4's rule (docs/study-v4-plan.md) ----------------------------------------------------------------------

V4_ARMS = {"A": "worked_control", "S": "worked_piece_spelling", "P": "piece_spelling"}
V4_SETTINGS = {"A": "worked_0shot", "S": "worked_0shot", "P": "worked_3shot", "base": "worked_3shot"}
PAIRS = (("S", "A"), ("P", "base"))  # the deciding comparisons: arm's gap minus its reference's
RUNS_NEEDED = {"A": 3, "S": 3, "P": 3}
LONG_PIECE = 4  # the covariate: position questions inside pieces of 4+ letters, beside all


def outcome(runs: dict[str, list[dict]], key: str) -> list[dict]:
    """The outcome columns an arm (or base) is read by, one per run, in the setting it answers in."""
    if key == "base":
        return [runs["A"][0]["base"][V4_SETTINGS["base"]]] if runs.get("A") else []
    return [e["tuned"][V4_SETTINGS[key]] for e in runs.get(key, [])]


def v4_runs(exports: list[dict]) -> dict[str, list[dict]]:
    """Arm letter -> its runs' exports, by seed (arms outside V4_ARMS are left out)."""
    letter = {arm: key for key, arm in V4_ARMS.items()}
    found: dict[str, list[dict]] = {}
    for e in sorted(exports, key=lambda e: e["seed"]):
        if e["arm"] in letter:
            found.setdefault(letter[e["arm"]], []).append(e)
    return found


def covered_set(runs: dict[str, list[dict]]) -> set[str]:
    """The covered pieces the runs trained on; refuses runs whose data drew another covered set."""
    sets = {tuple(e["piece_coverage"]["covered"]) for side in runs.values() for e in side}
    if len(sets) != 1:
        raise ValueError(f"study v4's runs were built on {len(sets)} different covered sets: one study, one data")
    return set(sets.pop())


def family(runs: dict[str, list[dict]], covered: set[str], min_piece: int = 0) -> dict[tuple, dict]:
    """(arm, reference, task) -> the difference in differences with runs as the unit, for each pair whose sides
    both have runs."""
    found = {}
    first_threshold = 0.05 / (len(PAIRS) * len(DECIDING_HARD_ONLY))  # the minimum detectable effect at Holm's first
    for arm, reference in PAIRS:
        left, right = outcome(runs, arm), outcome(runs, reference)
        if len(left) >= 2 and right:
            for task in DECIDING_HARD_ONLY:
                found[(arm, reference, task)] = difference_in_differences(left, right, covered, task, min_piece,
                                                                          first_threshold)  # fmt: skip
                found[(arm, reference, task)]["word_bootstrap"] = gap_bootstrap(left, right, covered, task, min_piece)
    return found


def answered(runs: dict[str, list[dict]]) -> dict[str, float]:
    """Arm letter (and base) -> the share of its deciding replies with an answer line (mean over runs)."""
    return {key: float(np.mean([np.mean(c["answered"]) for c in outcome(runs, key)]))
            for key in (*runs, "base") if outcome(runs, key)}  # fmt: skip


def reading(found: dict[tuple, dict], rejected: dict[tuple, bool], levels: dict[str, float],
            rates: dict[str, float], a_minus_base: dict[str, float], complete: bool, *, ceiling: float,
            format_drop: float, gate_diff: float) -> str:  # fmt: skip
    """The plan's reading of the whole family: (c), (a) or (b), with why."""
    if not complete:
        return "**not yet**: the rule is applied once all 9 runs are in"
    lost = [f"{arm} answered {rates[arm]:.3f} against {ref}'s {rates[ref]:.3f}" for arm, ref in PAIRS
            if rates[arm] < rates[ref] - format_drop]  # fmt: skip
    if lost:
        return "**(b) cannot tell**: an arm lost the answer format (" + "; ".join(lost) + ")"
    weak = [f"{measure}: {diff:+.3f}" for measure, diff in a_minus_base.items() if diff < gate_diff]
    if weak:
        return (f"**(b) cannot tell**: A no longer beats base by {gate_diff:+.2f} on the new questions ("
                + ", ".join(weak) + "): no learnable letter skill to transfer into")  # fmt: skip
    won = [key for key, t in found.items() if rejected[key] and t["diff"] > 0 and levels[key[2]] <= ceiling]
    if won:
        return "**(c) transfer to the spelled token**: " + ", ".join(f"{a} − {r} on {t}" for a, r, t in won)
    return "**(a) no piece-specific transfer here**: no test rejected with a positive difference (read with the " \
           "minimum detectable effects)"  # fmt: skip


def letters_right_by_piece(reply: str, pieces: list[str]) -> list[bool]:
    """Per piece of the word, whether the worked reply's numbered letters at its positions spell it (a reply that
    stops early gets the rest wrong): where in the word the spelling went wrong, piece by piece."""
    spelled, out, start = worked_spelling(reply), [], 0
    for piece in pieces:
        out.append(spelled[start:start + len(piece)] == piece.lower())
        start += len(piece)
    return out


def piece_letters_right(cols: dict, covered: set[str]) -> dict[str, tuple[float, int]]:
    """Covered / uncovered -> the share of pieces of 2+ letters that the run's worked replies spelled right inside
    the word, over every deciding question's reply, and how many pieces that is."""
    tally = {COVERED: [], UNCOVERED: []}
    for reply, pieces in zip(cols["reply"], cols["pieces"]):
        for piece, right in zip(pieces, letters_right_by_piece(reply or "", pieces)):
            if len(piece) > 1:
                tally[COVERED if piece.lower() in covered else UNCOVERED].append(right)
    return {k: (float(np.mean(v)) if v else float("nan"), len(v)) for k, v in tally.items()}
