"""Study v3, step 1: the calibration gate (docs/study-v3-plan.md). Can this setup teach a letter skill at all? The
worked control, tuned, answers in the worked mode 0-shot; base answers the same questions 3-shot (worked examples);
a recipe passes when it beats base by GATE_DIFF or more, with p < GATE_P, on hard position and on count, on every
seed. `gate_rows` computes each cell and step, `render_calibration` the page docs/study.md and its figure."""

from collections import defaultdict
from pathlib import Path

import numpy as np

from strawberry.study.statistics import DECIDING_HARD_ONLY, accuracy_of, cluster_bootstrap, subset
from strawberry.tasks import shortcuts, strategies

GATE_DIFF, GATE_P = 0.10, 0.01
GATE_QUESTIONS = 400  # questions per deciding measure a run needs to count for the gate; fewer: a screening look
TUNED_SETTING, BASE_SETTING = "worked_0shot", "worked_3shot"  # the settings the gate compares
SHORTCUT_CEILING = 0.30  # a measure decides only if no constant answer or letter-only rule scores above this
CALIBRATION_PREFIX = "grid-v3cal-"  # experiment and export names of grids/v3-calibration.yaml
# a model keeps the answer format when at least this share of its replies has an `Answer:` line (base 3-shot: 0.944)
FORMAT_FLOOR = 0.90


def measure(task: str) -> str:
    return "hard position" if DECIDING_HARD_ONLY[task] else "count"


def points(export: dict) -> dict[int, dict]:
    """steps -> the tuned outcome columns at that step: the run's end and each kept snapshot."""
    found = {int(step): snap["tuned"] for step, snap in export["snapshots"].items()}
    return found | {export["params"]["train.max_steps"]: export["tuned"]}


def gate_rows(exports: list[dict]) -> list[dict]:
    """One row per run and step: the recipe (learning rate, rank, steps), seed, and per deciding measure the tuned
    and base accuracy, their difference with its 95% interval and p (cluster bootstrap over words), whether the
    row passes the gate."""
    rows = []
    for export in exports:
        base = export["base"][BASE_SETTING]
        for steps, tuned in sorted(points(export).items()):
            row = {"name": export["name"], "lr": export["params"]["train.learning_rate"],
                   "r": export["params"]["lora.r"], "seed": export["seed"], "steps": steps}  # fmt: skip
            for task, hard in DECIDING_HARD_ONLY.items():
                test = cluster_bootstrap([tuned[TUNED_SETTING]], [base], task, hard)
                row[task] = test | {"tuned": accuracy_of(tuned[TUNED_SETTING], task, hard),
                                    "base": accuracy_of(base, task, hard)}  # fmt: skip
            row["screening"] = any(row[t]["n_questions"] < GATE_QUESTIONS for t in DECIDING_HARD_ONLY)
            row["passes"] = not row["screening"] and all(row[t]["diff"] >= GATE_DIFF and row[t]["p"] < GATE_P
                                                         for t in DECIDING_HARD_ONLY)  # fmt: skip
            row["diagnostics"] = diagnostics(tuned, base)
            rows.append(row)
    return rows


def diagnostics(tuned: dict, base: dict) -> dict:
    """Not deciding: the format rate (a reply with an answer line) and how often the worked reply spelled the word
    right, tuned 0-shot and base 3-shot, over the deciding questions."""
    out = {}
    for name, cols in (("tuned", tuned[TUNED_SETTING]), ("base", base)):
        out[name] = {"answered": float(np.mean(cols["answered"])) if "answered" in cols else None,
                     "spelled": spelled_right(cols)}  # fmt: skip
    return out


def spelled_right(cols: dict) -> float | None:
    """Share of the worked replies whose spelling is the word's, letter for letter (None: no worked reply)."""
    spelled = [s for s in cols.get("spelled", []) if s is not None]
    return float(np.mean(spelled)) if spelled else None


def kept_format(rows: list[dict]) -> dict[tuple, bool]:
    """(lr, r) -> whether every run of the cell still kept the answer format at its last step (tuned answered >=
    FORMAT_FLOOR). The arms train far longer than the gate's steps (one pass over the coverage set on top), so a
    recipe that lost the format by its run's end is a risk for them."""
    last: dict[str, dict] = {}
    for row in rows:
        if row["name"] not in last or row["steps"] > last[row["name"]]["steps"]:
            last[row["name"]] = row
    kept: dict[tuple, bool] = defaultdict(lambda: True)
    for row in last.values():
        answered = row["diagnostics"]["tuned"]["answered"]
        kept[(row["lr"], row["r"])] &= answered is not None and answered >= FORMAT_FLOOR
    return dict(kept)


def recipe_order(rows: list[dict]):
    """Sort key of recipes (lr, r, steps): those whose cell kept the format first, then the cheapest (fewest steps,
    then lowest rank, then lowest learning rate)."""
    kept = kept_format(rows)
    return lambda k: (not kept.get(k[:2], False), k[2], k[1], k[0])


def seed_results(rows: list[dict]) -> dict[tuple, dict[int, bool]]:
    """(lr, r, steps) -> seed -> whether that seed's run passed at those steps (a screening look decides nothing)."""
    by_recipe: dict[tuple, dict[int, bool]] = defaultdict(dict)
    for row in (r for r in rows if not r["screening"]):
        by_recipe[(row["lr"], row["r"], row["steps"])][row["seed"]] = row["passes"]
    return dict(by_recipe)


def open_recipes(rows: list[dict]) -> list[tuple]:
    """(lr, r, steps) of every recipe that passed on some seed and failed on none, in `recipe_order`: the first is
    the one to run more seeds of (or, once it has them, the arms' recipe)."""
    open_ = [k for k, v in seed_results(rows).items() if all(v.values())]
    return sorted(open_, key=recipe_order(rows))


def passing_recipes(rows: list[dict], seeds_needed: int = 3) -> list[tuple]:
    """(lr, r, steps) of every recipe that passed on `seeds_needed` seeds and failed on none, in `recipe_order`: the
    first is the arms' recipe."""
    results = seed_results(rows)
    return [k for k in open_recipes(rows) if len(results[k]) >= seeds_needed]


def shortcut_levels(export: dict, val: list[dict]) -> dict[str, float]:
    """The best constant answer or letter-only rule (fitted on `val`) on each deciding measure's questions of a run
    (export_run stores it, so the page needs no data): for hard position the first and last letter score 0 by
    definition, so the letter-only rule (the usual letter at this word length and position) and a random letter of
    the word are what is left."""
    levels = {}
    cols = export["base"][BASE_SETTING]
    for task, hard in DECIDING_HARD_ONLY.items():
        mask = subset(cols, task, hard)
        questions = [{"meta": {**asked, "task": task, "word": word}, "output": expected}
                     for asked, word, expected, keep in zip(cols["asked"], cols["word"], cols["expected"], mask)
                     if keep]  # fmt: skip
        rules = strategies(task, questions) | shortcuts(task, [q for q in val if q["meta"]["task"] == task], questions)
        levels[task] = max(rules.values())
    return levels


def measure_levels(exports: list[dict]) -> dict[str, float]:
    """task -> its deciding measure's shortcut level over the runs' questions (the highest of their stored levels); a
    measure decides only at SHORTCUT_CEILING or below."""
    return {t: max(e["shortcut_levels"][t] for e in exports) for t in DECIDING_HARD_ONLY}


def fmt(value: float | None) -> str:
    return "—" if value is None or value != value else f"{value:.3f}"


def render_calibration(exports: list[dict], figure: Path, arm_exports: list[dict] = ()) -> str:
    """docs/study.md: the calibration grid so far, the gate's verdict and the shortcut levels (fitted on val);
    then the arms, their reading and diagnostics once arm runs are in (strawberry.study.transfer)."""
    rows = gate_rows(exports)
    levels = measure_levels(exports)
    passed = passing_recipes(rows)
    seed_passes = [r for r in rows if r["passes"]]
    lines = ["# Study v3: does spelling its own tokens help a model that can learn a letter skill?", "",
             "Generated by `python -m scripts.study calibration` from `metrics/study/grid-v3cal-*.json` and "
             "`grid-v3arms-*.json` (each a `dvc exp run` of `grids/v3-calibration.yaml` or `grids/v3-arms.yaml`). "
             "The plan and the rule, fixed before the runs: [study-v3-plan.md](study-v3-plan.md).", "",
             "## Step 1: the calibration gate", "",
             f"Gate: the worked control (tuned, worked mode, 0-shot) beats base (worked mode, 3-shot) by "
             f"**{GATE_DIFF:+.2f} or more with p < {GATE_P}** on hard position and on count, on 3 seeds. "
             "Differences are on the same questions; intervals and p from the cluster bootstrap over words.", "",
             "Shortcut level of each measure (the best constant answer or letter-only rule fitted on val; a measure "
             f"decides only at {SHORTCUT_CEILING:.2f} or below): "
             + ", ".join(f"{measure(t)} {fmt(v)}" for t, v in levels.items()) + ".", "",
             "| learning rate | LoRA r | steps | seed | hard position: tuned / base | diff [95% CI], p "
             "| count: tuned / base | diff [95% CI], p | passes |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        cells = [f"{r['lr']:g}", str(r["r"]), str(r["steps"]), str(r["seed"])]
        for task in DECIDING_HARD_ONLY:
            t = r[task]
            cells += [f"{t['tuned']:.3f} / {t['base']:.3f}",
                      f"{t['diff']:+.3f} [{t['low']:+.3f}, {t['high']:+.3f}], p {t['p']:.4f}"]  # fmt: skip
        cells.append("yes" if r["passes"] else "screening (n < 400)" if r["screening"] else "no")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Questions per measure: " + "; ".join(
        f"{r['name']} at {r['steps']} steps: " + ", ".join(f"{measure(t)} {r[t]['n_questions']}" for t in
                                                        DECIDING_HARD_ONLY) for r in rows) + ". A run with fewer "
        f"than {GATE_QUESTIONS} on a measure is a screening look and cannot pass the gate.", ""]  # fmt: skip
    lines += ["### Verdict so far", ""]
    kept = kept_format(rows)
    if passed:
        lr, r, steps = passed[0]
        lines.append(f"The gate is passed: the arms' recipe is learning rate {lr:g}, LoRA r {r}, {steps} steps "
                     f"({'its cell kept' if kept[(lr, r)] else 'no passing cell kept'} the answer format at its "
                     "run's end; then the cheapest).")  # fmt: skip
    elif candidates := open_recipes(rows):
        lr, r, steps = candidates[0]
        seeds = sorted(seed_results(rows)[candidates[0]])
        lines.append(f"{len(seed_passes)} cell-step(s) passed on a seed; learning rate {lr:g}, r {r}, {steps} steps "
                     f"comes first ({'its cell kept' if kept[(lr, r)] else 'no such cell kept'} the answer format at "
                     f"its run's end; then the cheapest) and passed on seed(s) {', '.join(map(str, seeds))}: the gate "
                     f"needs 3 seeds before the arms run.")  # fmt: skip
    elif seed_passes:
        failed = sorted({(r["lr"], r["r"], r["steps"]) for r in seed_passes})
        lines.append("Every recipe that passed on a seed failed on another ("
                     + "; ".join(f"learning rate {lr:g}, r {r}, {steps} steps" for lr, r, steps in failed)
                     + "): the grid's other cells decide; if none passes on 3 seeds, the study stops at step 1 "
                     "(reading (b)).")  # fmt: skip
    elif screened := [r for r in rows if r["screening"] and all(
            r[t]["diff"] >= GATE_DIFF and r[t]["p"] < GATE_P for t in DECIDING_HARD_ONLY)]:  # fmt: skip
        lines.append(f"No cell has passed the gate yet; {len(screened)} screening look(s) (fewer than "
                     f"{GATE_QUESTIONS} questions) cleared its margin and p: the same recipe at full size decides.")
    else:
        lines.append(f"No cell has passed yet ({len(rows)} cell-steps of {len(exports)} run(s) in). If no cell of the "
                     "grid passes, the study stops at step 1: at this scale the setup cannot teach a letter skill "
                     "even when the skill itself is trained (reading (b)).")  # fmt: skip
    lines += ["", "### Diagnostics (not deciding)", "",
              "Format rate (a reply with an `Answer:` line) and how often the worked reply spelled the word right, "
              "over the deciding questions:", "",
              "| learning rate | LoRA r | steps | seed | tuned answered | tuned spelled right | base answered "
              "| base spelled right |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        d = r["diagnostics"]
        lines.append(f"| {r['lr']:g} | {r['r']} | {r['steps']} | {r['seed']} | {fmt(d['tuned']['answered'])} | "
                     f"{fmt(d['tuned']['spelled'])} | {fmt(d['base']['answered'])} | {fmt(d['base']['spelled'])} |")
    lines += ["", "Wall time per run (2 cores): " + ", ".join(f"{e['name']} {wall_time(e)}" for e in exports) + ".", ""]
    if rows:
        plot_gate(rows, figure)
        lines += [f"![the gate: tuned minus base per cell and step]({figure.parent.name}/{figure.name})", ""]
    if arm_exports:
        from strawberry.study.transfer import render_arms

        lines += render_arms(list(arm_exports), bool(passed), figure.with_name("v3-arms.png"), exports)
    return "\n".join(lines)


def wall_time(export: dict) -> str:
    """The run's wall time as `scripts.study run` measured it, in minutes."""
    return "not recorded" if export.get("wall_s") is None else f"{export['wall_s'] / 60:.0f} min"


def plot_gate(rows: list[dict], path: Path) -> None:
    """Tuned minus base on each deciding measure, per cell, over steps, with 95% intervals and the gate line."""
    import matplotlib.pyplot as plt

    from strawberry.figures import save

    fig, axes = plt.subplots(1, len(DECIDING_HARD_ONLY), figsize=(10, 3.8), sharey=True)
    for ax, task in zip(axes, DECIDING_HARD_ONLY):
        by_cell = defaultdict(list)
        for r in rows:
            by_cell[(r["lr"], r["r"], r["seed"])].append(r)
        for (lr, rank, seed), cell in sorted(by_cell.items()):
            cell.sort(key=lambda r: r["steps"])
            diffs = np.array([r[task]["diff"] for r in cell])
            err = np.array([[r[task]["diff"] - r[task]["low"] for r in cell], [r[task]["high"] - r[task]["diff"]
                                                                              for r in cell]])  # fmt: skip
            ax.errorbar([r["steps"] for r in cell], diffs, yerr=err, marker="o", capsize=3,
                        label=f"lr {lr:g}, r {rank}, seed {seed}")  # fmt: skip
        ax.axhline(GATE_DIFF, color="green", linestyle="--", linewidth=1, label=f"gate {GATE_DIFF:+.2f}")
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(f"{measure(task)}: tuned (0-shot) − base (3-shot)")
        ax.set_xlabel("training steps")
    axes[0].set_ylabel("accuracy difference")
    axes[-1].legend(fontsize=7)
    save(fig, path)
