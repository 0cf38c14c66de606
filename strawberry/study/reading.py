"""Study v3's reading, fixed before its arms ran (docs/study-v3-plan.md).

Two comparisons, each on both deciding measures (hard position, count), tuned worked 0-shot against base worked
3-shot: **B − C** (does spelling the model's own tokens add to a model that answers by spelling?) and **D − base**
(does spelling alone, with the format kept, help?): a family of 4 tests under Holm's correction. The pre-registered
rule reads the cluster bootstrap (`verdict`); beside it, the same rule on the seed-level tests (`seed_verdict`), which
take each run as the unit. Diagnostics never change either reading."""

from collections import defaultdict

import numpy as np

from strawberry.study.gate import BASE_SETTING, SHORTCUT_CEILING, TUNED_SETTING, measure
from strawberry.study.statistics import accuracy_of, cluster_bootstrap, holm, seed_level
from strawberry.tasks import DECIDING_HARD_ONLY

V3_ARMS = {"A": "worked_control", "B": "worked_spelling", "C": "worked_format", "D": "spelling_replay"}

PAIRS = (("B", "C"), ("D", "base"))  # left − right; "base": the base model, worked 3-shot

FAMILY_ALPHA = 0.05  # family-wise error over the 4 tests (2 comparisons x 2 measures), Holm

SEEDS_NEEDED = 3
# an arm lost the answer format when its answered rate is this far below its reference's: A for B and C (the same
# worked part without the added pass), base for D (whose own replies D replays)

FORMAT_DROP = 0.10

FORMAT_REFERENCE = {"B": "A", "C": "A", "D": "base"}

def by_arm(exports: list[dict]) -> dict[str, list[dict]]:
    """Arm letter -> its runs' exports, by seed; refuses runs that asked other questions than each other."""
    found = defaultdict(list)
    letter = {arm: key for key, arm in V3_ARMS.items()}
    first = exports[0]["base"][BASE_SETTING]
    for export in sorted(exports, key=lambda e: e["seed"]):
        if export["arm"] not in letter:
            raise ValueError(f"{export['name']}: train.arm {export['arm']!r} is none of study v3's arms "
                             f"({', '.join(V3_ARMS.values())})")  # fmt: skip
        mine = export["base"][BASE_SETTING]
        if (mine["task"], mine["word"], mine["expected"]) != (first["task"], first["word"], first["expected"]):
            raise ValueError(f"{export['name']} asked other test questions than {exports[0]['name']}: one study "
                             "asks every arm the same questions (same data, same evaluate params)")  # fmt: skip
        found[letter[export["arm"]]].append(export)
    return {key: found[key] for key in V3_ARMS if key in found}  # A, B, C, D, not the files' order


def side(runs: dict[str, list[dict]], key: str) -> list[dict]:
    if key == "base":
        return [next(iter(runs.values()))[0]["base"][BASE_SETTING]]
    return [e["tuned"][TUNED_SETTING] for e in runs[key]]


def comparisons(runs: dict[str, list[dict]]) -> dict[tuple[str, str, str], dict]:
    """(left, right, task) -> the cluster bootstrap of left minus right on the task's deciding measure, for every
    comparison whose arms have runs."""
    out = {}
    for left, right in PAIRS:
        if left in runs and (right == "base" or right in runs):
            for task, hard in DECIDING_HARD_ONLY.items():
                out[(left, right, task)] = cluster_bootstrap(side(runs, left), side(runs, right), task, hard)
    return out


def answered_rates(runs: dict[str, list[dict]]) -> dict[str, float]:
    """Arm letter (and "base") -> the share of its replies with an answer line (mean over seeds)."""
    rates = {key: float(np.mean([np.mean(c["answered"]) for c in side(runs, key)])) for key in runs}
    return rates | {"base": float(np.mean(side(runs, "base")[0]["answered"]))}


def format_lost(answered: dict[str, float]) -> dict[str, str]:
    """Arm letter -> why it lost the answer format: answered more than FORMAT_DROP below its reference's."""
    lost = {}
    for key, ref in FORMAT_REFERENCE.items():
        if key in answered and ref in answered and answered[key] < answered[ref] - FORMAT_DROP:
            lost[key] = f"{key} answered {answered[key]:.3f} against {ref}'s {answered[ref]:.3f}"
    return lost


def verdict(found: dict[tuple, dict], levels: dict[str, float], gate_passed: bool, complete: bool,
            answered: dict[str, float]) -> str:
    """The pre-registered reading: (b) the gate did not pass; else, for the comparisons whose arms kept the answer
    format (`format_lost`), (c) when one shows transfer (a test of it rejected by Holm over all 4 with a positive
    difference, on a measure that decides), else (a). A comparison with an arm that lost the format cannot tell
    either way: a difference against a model that stopped answering measures the lost format, not spelling (the
    condition covered only nulls until the twelfth session; the reading as first written is shown beside it)."""
    if not gate_passed:
        return ("**(b)** this setup cannot tell: the positive control did not pass the gate, so no arm result is "
                "read.")  # fmt: skip
    if not complete:
        return (f"**Not read yet**: the reading needs {SEEDS_NEEDED} seeds of arms A, B, C and D "
                "(the rule is applied to the whole family at once, never to part of it).")  # fmt: skip
    lost = format_lost(answered)
    reading = _reading(found, levels, lost, guard_shown=True)
    first = _reading(found, levels, lost, guard_shown=False)
    if first != reading:
        reading += (" As the rule was first written (the format condition guarding nulls only), the reading would "
                    "be: " + first)  # fmt: skip
    return reading


def _reading(found: dict[tuple, dict], levels: dict[str, float], lost: dict[str, str], guard_shown: bool) -> str:
    rejected = holm({k: v["p"] for k, v in found.items()}, FAMILY_ALPHA)
    unread = [(left, right) for left, right in PAIRS if {left, right} & set(lost)]
    shown = [k for k, v in found.items() if rejected[k] and v["diff"] > 0 and levels[k[2]] <= SHORTCUT_CEILING
             and not (guard_shown and k[:2] in unread)]  # fmt: skip
    if shown:
        named = [f"{left} − {right} on {measure(task)} {found[(left, right, task)]['diff']:+.3f}"
                 for left, right, task in shown]  # fmt: skip
        return "**(c) transfer**: " + "; ".join(named) + " (Holm, family-wise 0.05)."
    why = "; ".join(lost.values()) + f" (more than {FORMAT_DROP:.2f} below)"
    if len(unread) == len(PAIRS):
        return (f"**(b)** this setup cannot tell: the arms lost the answer format ({why}), so no difference "
                "between them is read.")  # fmt: skip
    readable = [f"{left} − {right}" for left, right in PAIRS if (left, right) not in unread]
    named = " and ".join(f"{left} − {right}" for left, right in unread)
    return (f"**(a) no transfer here**: the gate passed, and {' nor '.join(readable)} is not rejected with a positive "
            "difference on a deciding measure (Holm over the 4 tests). Read with the minimum detectable effect of "
            "the plan: smaller effects can go unseen."
            + (f" {named} cannot tell: {why}." if unread else ""))


def seed_comparisons(runs: dict[str, list[dict]]) -> dict[tuple[str, str, str], dict]:
    """(left, right, task) -> the seed-level test of left minus right (statistics.seed_level): each run's accuracy on
    the task's deciding measure is one observation; base is one fixed value. The minimum detectable effect is at
    Holm's first threshold (FAMILY_ALPHA / 4), the level the smallest p must beat."""
    out = {}
    for left, right in PAIRS:
        if left in runs and (right == "base" or right in runs):
            for task, hard in DECIDING_HARD_ONLY.items():
                values = [[accuracy_of(c, task, hard) for c in side(runs, key)] for key in (left, right)]
                out[(left, right, task)] = seed_level(*values, alpha=FAMILY_ALPHA / (2 * len(PAIRS)))
    return out
