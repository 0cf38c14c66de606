"""The calibration gate (docs/study-v3-plan.md): can this setup teach a letter skill at all? The worked control,
tuned, answers in the worked mode 0-shot; base answers the same questions 3-shot (worked examples); a recipe passes
when it beats base by GATE_DIFF or more, with p < GATE_P, on hard position and on count, on every seed. `gate_rows`
computes each cell and step; `check_arms_recipe` refuses arms before the gate passed or at another recipe. The page
is strawberry.study.page's."""

from collections import defaultdict

import numpy as np

from strawberry.study.statistics import accuracy_of, cluster_bootstrap, subset
from strawberry.tasks import DECIDING_HARD_ONLY, shortcut_level

GATE_DIFF, GATE_P = 0.10, 0.01
GATE_QUESTIONS = 400  # questions per deciding measure a run needs to count for the gate; fewer: a screening look
TUNED_SETTING, BASE_SETTING = "worked_0shot", "worked_3shot"  # the settings the gate compares
SHORTCUT_CEILING = 0.30  # a measure decides only if no constant answer or letter-only rule scores above this
# a model keeps the answer format when at least this share of its replies has an `Answer:` line (base 3-shot: 0.944)
FORMAT_FLOOR = 0.90


def measure(task: str) -> str:
    return "hard position" if DECIDING_HARD_ONLY[task] else "count"


def points(export: dict) -> dict[int, dict]:
    """steps -> the tuned outcome columns at that step: the run's end and each kept snapshot."""
    found = {int(step): snap["tuned"] for step, snap in export["snapshots"].items()}
    return found | {export["resolved"]["steps"]: export["tuned"]}


def gate_rows(exports: list[dict]) -> list[dict]:
    """One row per run and step: the recipe (learning rate, rank, steps), seed, and per deciding measure the tuned
    and base accuracy, their difference with its 95% interval and p (cluster bootstrap over words), whether the
    row passes the gate."""
    rows = []
    for export in exports:
        base = export["base"][BASE_SETTING]
        for steps, tuned in sorted(points(export).items()):
            row = {"name": export["name"], "lr": export["resolved"]["learning_rate"],
                   "r": export["resolved"]["lora_r"], "seed": export["seed"], "steps": steps}  # fmt: skip
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
        levels[task] = shortcut_level(task, [q for q in val if q["meta"]["task"] == task], questions)["accuracy"]
    return levels


def measure_levels(exports: list[dict]) -> dict[str, float]:
    """task -> its deciding measure's shortcut level over the runs' questions (the highest of their stored levels); a
    measure decides only at SHORTCUT_CEILING or below."""
    return {t: max(e["shortcut_levels"][t] for e in exports) for t in DECIDING_HARD_ONLY}



def check_arms_recipe(resolved: dict, calibration: list[dict]) -> None:
    """Refuses the arms' runs before the gate has passed, or at another recipe than the gate's (the plan fixes
    both): `resolved` is what a cell would train with (strawberry.study.resolved.resolved_settings of its params
    and overrides), `calibration` the gate's exports of the same profile."""
    passed = passing_recipes(gate_rows(calibration)) if calibration else []
    if not passed:
        raise SystemExit(f"the calibration gate has not passed on profile {resolved['profile']} (`python -m "
                         "scripts.study page`): the arms run only at its recipe, after it")  # fmt: skip
    mine = (float(resolved["learning_rate"]), int(resolved["lora_r"]), int(resolved["steps"]))
    if mine != passed[0]:
        raise SystemExit(f"the arms would train at learning rate {mine[0]:g}, r {mine[1]}, {mine[2]} steps; the "
                         f"gate's recipe is learning rate {passed[0][0]:g}, r {passed[0][1]}, {passed[0][2]} steps: "
                         "set that in the arms grid's `set:`")  # fmt: skip
