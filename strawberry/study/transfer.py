"""Study v3, step 2: the arms at the gate's recipe and the reading fixed before they ran (docs/study-v3-plan.md).

Two comparisons, each on both deciding measures (hard position, count), tuned worked 0-shot against base worked
3-shot: **B − C** (does spelling the model's own tokens add to a model that answers by spelling?) and **D − base**
(does spelling alone, with the format kept, help?): a family of 4 tests under Holm's correction. The
covered-versus-uncovered contrast inside the arms, by each word's covered share, and the unseen wordings are
diagnostics: they never change the reading."""

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from strawberry.study.calibration import (
    BASE_SETTING,
    SHORTCUT_CEILING,
    TUNED_SETTING,
    fmt,
    gate_rows,
    measure,
    measure_levels,
    passing_recipes,
    points,
    spelled_right,
    wall_time,
)
from strawberry.study.statistics import DECIDING_HARD_ONLY, accuracy_of, cluster_bootstrap, mean_sd, subset

ARMS_PREFIX = "grid-v3arms-"  # experiment and export names of grids/v3-arms.yaml
V3_ARMS = {"A": "worked_control", "B": "worked_spelling", "C": "worked_format", "D": "spelling_replay"}
PAIRS = (("B", "C"), ("D", "base"))  # left − right; "base": the base model, worked 3-shot
FAMILY_ALPHA = 0.05  # family-wise error over the 4 tests (2 comparisons x 2 measures), Holm
SEEDS_NEEDED = 3
# an arm lost the answer format when its answered rate is this far below its reference's: A for B and C (the same
# worked part without the added pass), base for D (whose own replies D replays)
FORMAT_DROP = 0.10
FORMAT_REFERENCE = {"B": "A", "C": "A", "D": "base"}
SHARE_BINS = {"none": (0.0, 0.0), "part": (1e-9, 1 - 1e-9), "all": (1.0, 1.0)}  # covered share of a word's pieces


RECIPE_KEYS = ("train.learning_rate", "lora.r", "train.max_steps")  # the gate's recipe, as the arms' grid sets it


def check_arms_recipe(overrides: list[str], calibration: list[dict]) -> None:
    """Refuses the arms' runs before the gate has passed, or at another recipe than the gate's (the plan fixes
    both): `overrides` are a cell's `dvc exp run -S` values, `calibration` the gate's exports."""
    passed = passing_recipes(gate_rows(calibration)) if calibration else []
    if not passed:
        raise SystemExit("the calibration gate has not passed (docs/study.md, `python -m scripts.study "
                         "calibration`): the arms run only at its recipe, after it")  # fmt: skip
    values = dict(o.split("=", 1) for o in overrides)
    missing = [k for k in RECIPE_KEYS if k not in values]
    if missing:
        raise SystemExit(f"the arms' grid must set the gate's recipe in `set:`; it lacks {', '.join(missing)}")
    mine = (float(values["train.learning_rate"]), int(values["lora.r"]), int(values["train.max_steps"]))
    if mine != passed[0]:
        raise SystemExit(f"the arms' grid sets learning rate {mine[0]:g}, r {mine[1]}, {mine[2]} steps; the gate's "
                         f"recipe is learning rate {passed[0][0]:g}, r {passed[0][1]}, {passed[0][2]} steps: set "
                         "that in its `set:`")  # fmt: skip


def holm(pvalues: dict, alpha: float = FAMILY_ALPHA) -> dict:
    """Holm's step-down: the sorted p(1) <= ... <= p(m) are compared with alpha/m, alpha/(m-1), ..., alpha, and every
    test up to the first that fails is rejected. key -> rejected."""
    rejected, going = {}, True
    for i, key in enumerate(sorted(pvalues, key=pvalues.get)):
        going = going and pvalues[key] <= alpha / (len(pvalues) - i)
        rejected[key] = going
    return rejected


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
    rejected = holm({k: v["p"] for k, v in found.items()})
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


def share_bin(share: float | None) -> str | None:
    if share is None:
        return None
    return next(name for name, (low, high) in SHARE_BINS.items() if low <= share <= high)


def covered_contrast(cols: dict, shares: dict[str, float | None], task: str) -> dict[str, tuple[float, int]]:
    """Accuracy on the task's deciding questions by the word's covered share bin: bin -> (accuracy, questions)."""
    mask = subset(cols, task, DECIDING_HARD_ONLY[task])
    bins = np.array([share_bin(shares.get(w)) for w in cols["word"]], dtype=object)
    correct = np.array(cols["correct"])
    out = {}
    for name in SHARE_BINS:
        keep = mask & (bins == name)
        out[name] = (float(correct[keep].mean()) if keep.any() else float("nan"), int(keep.sum()))
    return out


def render_arms(exports: list[dict], gate_passed: bool, figure: Path, calibration: list[dict] = ()) -> list[str]:
    """The page's arms section: per arm and deciding measure the accuracy (mean ± sd over seeds), the two
    comparisons with 95% intervals, p and Holm's decision, the reading, and the diagnostics (`calibration`: the
    gate's exports, for arm A beside the gate's own cell)."""
    runs = by_arm(exports)
    levels = measure_levels(exports)
    complete = all(len(runs.get(k, [])) >= SEEDS_NEEDED for k in "ABCD")
    found = comparisons(runs)
    rejected = holm({k: v["p"] for k, v in found.items()}) if found else {}
    lines = ["## Step 2: the arms", "",
             "Tuned models worked 0-shot, base worked 3-shot, on the same test questions; mean ± sd over seeds "
             "(each run: the table below the comparisons).", "",
             "| arm | " + " | ".join(measure(t) for t in DECIDING_HARD_ONLY) + " | answered | spelled right |",
             "|---|" + "---|" * (len(DECIDING_HARD_ONLY) + 2)]  # fmt: skip
    lines.append("| base (3-shot) | " + " | ".join(map(fmt, scores(side(runs, "base")[0]))) + " |")
    for key in runs:
        per_run = [scores(c) for c in side(runs, key)]
        lines.append(f"| {key} {V3_ARMS[key]} | " + " | ".join(mean_sd(list(s)) for s in zip(*per_run)) + " |")
    lines += ["", "Answered: a reply with an `Answer:` line. Spelled right (a diagnostic of the mechanism, never "
              "deciding): the worked reply's letters are the word's, over all test questions asked.", ""]
    lines += ["Shortcut level of each measure (best constant or letter-only rule fitted on val; a measure decides "
              f"only at {SHORTCUT_CEILING:.2f} or below): "
              + ", ".join(f"{measure(t)} {fmt(v)}" for t, v in levels.items()) + ".", "",
              "| comparison | measure | difference [95% CI] | p | Holm: rejected | both arms kept the format |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    answered = answered_rates(runs)
    lost = format_lost(answered)
    for (left, right, task), t in found.items():
        dropped = [k for k in (left, right) if k in lost]
        lines.append(f"| {left} − {right} | {measure(task)} | {t['diff']:+.3f} [{t['low']:+.3f}, {t['high']:+.3f}] | "
                     f"{t['p']:.4f} | {'yes' if rejected[(left, right, task)] else 'no'} | "
                     f"{'no: ' + ', '.join(dropped) if dropped else 'yes'} |")  # fmt: skip
    lines += ["", "A comparison is read only when both its arms kept the answer format (answered at most "
              f"{FORMAT_DROP:.2f} below the reference's: A's for B and C, base's for D); otherwise it cannot tell, "
              "whichever way its difference goes.", ""]
    lines += run_lines(runs)
    lines += ["## Reading", "", verdict(found, levels, gate_passed, complete, answered), ""]
    lines += gain_lines(runs, found, rejected, levels)
    lines += contrast_lines(runs) + unseen_lines(runs) + shortcut_answer_lines(runs) + base_lines(runs)
    lines += rerun_lines(runs.get("A", []), calibration)
    plot_arms(runs, figure)
    return lines + [f"![the arms on the deciding measures]({figure.parent.name}/{figure.name})", ""]


def gain_lines(runs: dict[str, list[dict]], found: dict[tuple, dict], rejected: dict[tuple, bool],
               levels: dict[str, float]) -> list[str]:
    """Each gain Holm rejects beside its measure's shortcut level (a diagnostic, never the rule): a gain over a model
    below that level, by an arm no higher than it, is one that a rule which never reads the word also gets."""
    gains = [key for key, t in found.items() if rejected[key] and t["diff"] > 0]
    if not gains:
        return []
    lines = ["Each gain Holm rejects beside its measure's shortcut level (a diagnostic; the reading above is the "
             "rule's): an arm no higher than the level gains only what a rule that never reads the word scores.", "",
             "| comparison | measure | arm's accuracy | shortcut level | arm above the level by |",
             "|---|---|---|---|---|"]  # fmt: skip
    for left, right, task in gains:
        accuracy = float(np.mean([accuracy_of(cols, task, DECIDING_HARD_ONLY[task]) for cols in side(runs, left)]))
        lines.append(f"| {left} − {right} | {measure(task)} | {fmt(accuracy)} | {fmt(levels[task])} | "
                     f"{accuracy - levels[task]:+.3f} |")  # fmt: skip
    return lines + [""]


def scores(cols: dict) -> list[float]:
    """One model's row of the arms tables: accuracy per deciding measure, answered, spelled right."""
    accuracies = [accuracy_of(cols, task, hard) for task, hard in DECIDING_HARD_ONLY.items()]
    return accuracies + [float(np.mean(cols["answered"])), spelled_right(cols)]


def run_lines(runs: dict[str, list[dict]]) -> list[str]:
    """Each arm run on its own: what the mean ± sd above is made of, the precision it ran in and its wall time."""
    lines = ["Each run (wall time as `scripts.study run` measured it: a run resumed from a checkpoint after a "
             "session's end counts only its last part):", "",
             "| arm | seed | run | precision | " + " | ".join(measure(t) for t in DECIDING_HARD_ONLY)
             + " | answered | spelled right | wall time |",
             "|---|---|---|---|" + "---|" * (len(DECIDING_HARD_ONLY) + 3)]  # fmt: skip
    for key, arm_runs in runs.items():
        for run in arm_runs:
            lines.append(f"| {key} | {run['seed']} | {run['name']} | {precision(run)} | "
                         + " | ".join(map(fmt, scores(run["tuned"][TUNED_SETTING]))) + f" | {wall_time(run)} |")
    return lines + [""]


def precision(export: dict) -> str:
    """What `precision: auto` became on the run's machine: bf16 autocast where the CPU has native bf16, else fp32."""
    return export.get("precision") or "not recorded"


def base_lines(runs: dict[str, list[dict]]) -> list[str]:
    """Diagnostic: base's answers as each machine computed them. The comparisons use the first run's (A seed 1's);
    runs on a machine with another arithmetic (fp32 where the CPU lacks native bf16) answer some questions
    otherwise."""
    groups: dict[tuple, list[dict]] = {tuple(side(runs, "base")[0]["correct"]): []}  # the one compared against first
    for e in sorted((e for arm_runs in runs.values() for e in arm_runs), key=lambda e: (e["seed"], e["name"])):
        groups.setdefault(tuple(e["base"][BASE_SETTING]["correct"]), []).append(e)
    if len(groups) < 2:
        return []
    first = np.array(next(iter(groups)))
    lines = ["## Base's answers by machine (diagnostic)", "",
             "Base worked 3-shot as the machine of each group of runs computed it; the comparisons above use the "
             "first row's. Differing: the questions it got right on one machine and wrong on the other.", "",
             "| runs | precision | " + " | ".join(measure(t) for t in DECIDING_HARD_ONLY) + " | answered | differing |",
             "|---|---|" + "---|" * (len(DECIDING_HARD_ONLY) + 2)]  # fmt: skip
    for correct, members in groups.items():
        base = members[0]["base"][BASE_SETTING]
        lines.append(f"| {', '.join(e['name'] for e in members)} | {precision(members[0])} | "
                     + " | ".join(fmt(accuracy_of(base, t, h)) for t, h in DECIDING_HARD_ONLY.items())
                     + f" | {fmt(float(np.mean(base['answered'])))} | "
                     f"{int((np.array(correct) != first).sum())} of {len(first)} |")  # fmt: skip
    return lines + [""]


def gate_cell(arm_a: dict, calibration: list[dict]) -> tuple[dict, dict] | None:
    """The gate's export that trained what arm A's run trains (same learning rate, rank and seed, A's steps among its
    points) and its tuned columns at A's steps; None if the grid has no such cell or it asked other questions."""
    params = arm_a["params"]
    for export in calibration:
        same = all(export["params"].get(k) == params.get(k) for k in ("train.learning_rate", "lora.r"))
        tuned = points(export).get(params["train.max_steps"]) if same and export["seed"] == arm_a["seed"] else None
        if tuned and tuned[TUNED_SETTING]["word"] == arm_a["tuned"][TUNED_SETTING]["word"]:
            return export, tuned[TUNED_SETTING]
    return None


def rerun_lines(arm_a: list[dict], calibration: list[dict]) -> list[str]:
    """Diagnostic: arm A trains exactly the gate's cell of its seed (A adds nothing to the worked Q&A), so a run on
    the gate's machine gives the same answers; a machine with other arithmetic (fp32 without native bf16) need
    not: how far apart they land is what the arithmetic alone does to one run."""
    rows = []
    for run in arm_a:
        if (found := gate_cell(run, calibration)) is None:
            continue
        cell, gate = found
        mine = run["tuned"][TUNED_SETTING]
        pairs = [(accuracy_of(gate, t, h), accuracy_of(mine, t, h)) for t, h in DECIDING_HARD_ONLY.items()]
        pairs.append((float(np.mean(gate["answered"])), float(np.mean(mine["answered"]))))
        differing = int((np.array(gate["correct"]) != np.array(mine["correct"])).sum())
        rows.append(f"| {run['seed']} | {cell['name']} ({precision(cell)}) | {run['name']} ({precision(run)}) | "
                    + " | ".join(f"{fmt(g)} / {fmt(a)}" for g, a in pairs)
                    + f" | {differing} of {len(mine['correct'])} |")  # fmt: skip
    if not rows:
        return []
    return ["## Arm A beside the gate's own cell (diagnostic)", "",
            "Arm A trains what the gate's cell of the same seed trained (same recipe, data and order); on the same "
            "machine it gives the same answers. Gate / A; differing: questions one got right and the other wrong.",
            "", "| seed | gate's cell | arm A | " + " | ".join(measure(t) for t in DECIDING_HARD_ONLY)
            + " | answered | differing |", "|---|---|---|" + "---|" * (len(DECIDING_HARD_ONLY) + 2), *rows, ""]


def contrast_lines(runs: dict[str, list[dict]]) -> list[str]:
    """Diagnostic: each arm's accuracy on words whose pieces were all, partly or not spelled in training."""
    lines = ["## Covered and uncovered words (diagnostic)", "",
             "The coverage set spells the pieces of a random half of the eval words; pieces are shared, so the "
             "contrast goes by each word's covered share (its 2+-letter pieces spelled in the coverage set: none, "
             "part, all). Arms A and C never saw the coverage set: their gaps between the bins are the words' own "
             "difficulty.", "",
             "| arm | measure | none | part | all |", "|---|---|---|---|---|"]  # fmt: skip
    for key, arm_runs in runs.items():
        shares = arm_runs[0].get("covered_share")
        if not shares:
            continue
        for task in DECIDING_HARD_ONLY:
            per_run = [covered_contrast(c, shares, task) for c in side(runs, key)]
            cells = [f"{fmt(float(np.mean([r[b][0] for r in per_run])))} (n {per_run[0][b][1]})" for b in SHARE_BINS]
            lines.append(f"| {key} | {measure(task)} | " + " | ".join(cells) + " |")
    return lines + [""]


def unseen_lines(runs: dict[str, list[dict]]) -> list[str]:
    """Diagnostic: format rate and accuracy on wordings nothing trained on."""
    rows = []
    for key, arm_runs in runs.items():
        unseen = [e.get("unseen", {}).get("tuned", {}).get(TUNED_SETTING) for e in arm_runs]
        if all(unseen):
            rows.append(f"| {key} | {mean_sd([float(np.mean(u['answered'])) for u in unseen])} | "
                        f"{mean_sd([float(np.mean(u['correct'])) for u in unseen])} |")  # fmt: skip
    if not rows:
        return []
    base = next(iter(runs.values()))[0]["unseen"]["base"][BASE_SETTING]
    return ["## Unseen wordings (diagnostic)", "",
            "Questions reworded in ways nothing trained on (`data/benchmarks/unseen.yaml`), all their classes:", "",
            "| model | answered | accuracy |", "|---|---|---|",
            f"| base (3-shot) | {fmt(float(np.mean(base['answered'])))} | {fmt(float(np.mean(base['correct'])))} |",
            *rows, ""]  # fmt: skip


def shortcut_answers(cols: dict) -> dict[str, float | str] | None:
    """What a model that does not read the word answers, and how often it did, over its answered deciding questions:
    position -> the share answered with the word's first letter (never right there: a hard question asks for
    another letter); count -> its most frequent answer and that answer's share (the true counts are balanced, so a
    model that reads the word has none above about a quarter). None: the export kept no answers."""
    if "answer" not in cols:
        return None
    answer = np.array(cols["answer"], dtype=object)
    given = answer != None  # noqa: E711 (elementwise)
    position = subset(cols, "position", DECIDING_HARD_ONLY["position"]) & given
    first = np.array([w[0].lower() for w in cols["word"]], dtype=object)
    counts = Counter(answer[subset(cols, "count", DECIDING_HARD_ONLY["count"]) & given])
    top, n_top = counts.most_common(1)[0] if counts else ("—", 0)
    return {"first_letter": float((answer[position] == first[position]).mean()) if position.any() else float("nan"),
            "count_top": top, "count_top_share": n_top / max(1, sum(counts.values()))}  # fmt: skip


def shortcut_answer_lines(runs: dict[str, list[dict]]) -> list[str]:
    """Diagnostic: how often each model's answers are what a shortcut gives rather than what the word says."""
    rows = []
    for key in ("base", *runs):
        found = [s for s in map(shortcut_answers, side(runs, key)) if s]
        if found:
            label = "base (3-shot)" if key == "base" else f"{key} {V3_ARMS[key]}"
            top = ", ".join(dict.fromkeys(str(s["count_top"]) for s in found))
            rows.append(f"| {label} | {len(found)} | {mean_sd([s['first_letter'] for s in found])} | {top} | "
                        f"{mean_sd([s['count_top_share'] for s in found])} |")  # fmt: skip
    if not rows:
        return []
    return ["## Shortcut answers (diagnostic)", "",
            "Of the answered deciding questions: hard position answered with the word's first letter (always wrong "
            "there), and count's most frequent answer with its share (true counts are balanced over 0, 1, 2, 3+). "
            "Runs exported before the answers were kept (seed 1 of every arm) are not counted.", "",
            "| model | runs | position: the first letter | count: most frequent answer | its share |",
            "|---|---|---|---|---|", *rows, ""]  # fmt: skip


def plot_arms(runs: dict[str, list[dict]], path: Path) -> None:
    """Per deciding measure: each arm's seeds (dots) and mean (bar), base as a line."""
    from strawberry.figures import plt, save

    fig, axes = plt.subplots(1, len(DECIDING_HARD_ONLY), figsize=(9, 3.6), sharey=True)
    base = side(runs, "base")[0]
    for ax, (task, hard) in zip(axes, DECIDING_HARD_ONLY.items()):
        for i, key in enumerate(runs):
            values = [accuracy_of(c, task, hard) for c in side(runs, key)]
            ax.bar(i, np.mean(values), color="lightsteelblue")
            ax.plot([i] * len(values), values, "o", color="navy", markersize=4)
        ax.axhline(accuracy_of(base, task, hard), color="grey", linestyle="--", label="base (3-shot)")
        ax.set_xticks(range(len(runs)), [f"{k}\n{V3_ARMS[k]}" for k in runs], fontsize=7)
        ax.set_title(measure(task))
    axes[0].set_ylabel("accuracy (worked, 0-shot)")
    axes[-1].legend(fontsize=7)
    save(fig, path)
