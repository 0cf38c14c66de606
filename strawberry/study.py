"""The study: arms x seeds (+ a dose-response run) as DVC experiments, their export, and the page that aggregates them.

One home for what the command lines share: the plan of runs, the experiment rows read from `dvc exp show --json`,
the metric keys, the export of a finished run (metrics/study/<name>.json, committed: the study's record) and the
statistics (a bootstrap over seeds and words). scripts/study.py and scripts/transfer_analysis.py are thin mains.
"""

import json
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from strawberry.evaluation import is_hard

PREFIX = "study-"
ARMS = ("spelling", "indexed", "positive_control", "format_control")  # train.arm values, hypothesis arms first
CONTROLS = ("positive_control", "format_control")  # labelled as controls everywhere: never the hypothesis
DOSE_FACTOR = 4  # the dose-response run trains this many times the default steps, snapshots at 1x, 2x, 4x
HEADLINE_TASKS = ("position", "count")
EXPORTS = Path("metrics/study")
BOOTSTRAP = 5000  # bootstrap resamples for intervals and p-values
# The measure that decides, per task (value: hard questions only), one that no constant answer passes: position ->
# the hard questions (the letter asked for is neither the word's first nor its last); count -> all count questions,
# balanced over the true count 0/1/2/3+, so every constant answer scores the same 1/4. Count's hard subset (true count
# 2+) is not constant-proof: always answering "2" scores 0.5 there, and tuned models do shift from "1" to "2".
DECIDING_HARD_ONLY = {"position": True, "count": False}
ALPHA = 0.05  # family-wise, per arm: Bonferroni over its task x setting cells


def metric_key(task: str, setting: str, field: str) -> str:
    """A headline metric as `dvc exp show` flattens metrics/eval.json: "position.spell_first_3shot.tuned_hard"."""
    return f"{task}.{setting}.{field}"


def flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        else:
            out[name] = value
    return out


def runs(exp_show: list) -> list[dict]:
    """Every workspace/commit/experiment row of `dvc exp show --json` that has evaluation metrics."""
    found = []

    def visit(node: dict, name: str | None) -> None:
        data = node.get("data") or {}
        metrics = (data.get("metrics") or {}).get("metrics/eval.json", {}).get("data")
        params = (data.get("params") or {}).get("params.yaml", {}).get("data")
        # The workspace repeats a commit or an exp; an experiment still running, or killed mid-run (a session
        # that ended), shows the workspace's rev and metrics too: neither is a finished run.
        if metrics and params and "workspace" not in (node.get("rev"), data.get("rev")):
            found.append({"name": node.get("name") or name or data.get("rev", "?")[:7], "rev": data.get("rev"),
                          "params": flatten(params), "metrics": flatten(metrics)})  # fmt: skip
        for exp in node.get("experiments") or []:
            for rev in exp.get("revs") or []:
                visit(rev, exp.get("name"))

    for node in exp_show:
        visit(node, node.get("name"))
    return found


def exp_show_runs() -> list[dict]:
    """Every run `dvc exp show` knows, on any commit (-A): a study outlives the commit its first runs started on."""
    shown = subprocess.run(["dvc", "exp", "show", "--json", "-A"], capture_output=True, text=True, check=True).stdout
    return runs(json.loads(shown))


def run_name(profile: str, arm: str, seed: int, steps_factor: int = 1) -> str:
    """Export and experiment names carry the profile: "study-qwen25-coder-05b-indexed-s2"."""
    return f"{PREFIX}{profile}-{arm}{f'-x{steps_factor}' if steps_factor > 1 else ''}-s{seed}"


def plan(profile: str, seeds: list[int], dose_factor: int, default_steps: int, arms: Sequence[str] = ARMS
         ) -> list[tuple[str, list[str]]]:  # fmt: skip
    """(experiment name, -S overrides) of every run: each seed x arm at the default length, then one spelling run of
    dose_factor x the steps whose adapters at 1x, 2x, ... are kept and evaluated on test (a curve over fixed
    checkpoints, not a selection; no early stopping). Every run has the same records, batch and learning rate.
    `arms` picks some of the arms (a first look); the study is all of them."""
    if unknown := [a for a in arms if a not in ARMS]:
        raise ValueError(f"unknown arm(s) {', '.join(unknown)}: the arms are {', '.join(ARMS)}")
    # seed by seed, so that a study cut off early has every arm
    todo = [(run_name(profile, arm, seed), [f"model={profile}", f"train.arm={arm}", f"train.seed={seed}"])
            for seed in seeds for arm in ARMS if arm in arms]  # fmt: skip
    if dose_factor > 1:
        steps = default_steps * dose_factor
        snapshots = [default_steps * f for f in (1, 2, 4, 8, 16) if f <= dose_factor]
        overrides = [f"model={profile}", "train.arm=spelling", f"train.seed={seeds[0]}", f"train.max_steps={steps}",
                     f"train.patience={steps}", f"train.snapshot_steps=[{','.join(map(str, snapshots))}]"]
        todo.append((run_name(profile, "spelling", seeds[0], dose_factor), overrides))
    return todo


def exported(name: str) -> Path:
    return EXPORTS / f"{name}.json"


def outcomes(rows: list[dict]) -> dict[str, dict[str, list]]:
    """setting -> columns over the test questions in asked order (greedy, or each question's sampled mean): task,
    word, hard, correct (lenient), strict. The same questions in the same order in every run of a profile."""
    sampled = any(r.get("decoding") == "sampled" for r in rows)
    groups: dict[str, dict[str, list]] = {}
    for r in rows:
        if r["set"] != "test" or r.get("decoding", "greedy") != ("sampled" if sampled else "greedy"):
            continue
        if r["meta"]["task"] not in HEADLINE_TASKS:
            continue
        cols = groups.setdefault(r["setting"], {"task": [], "word": [], "hard": [], "correct": [], "strict": []})
        if r.get("sample", 0) == 0:
            cols["task"].append(r["meta"]["task"])
            cols["word"].append(r["meta"]["word"])
            cols["hard"].append(bool(is_hard(r["meta"]["task"], r["meta"], r["expected"])))
            cols["correct"].append([])
            cols["strict"].append([])
        cols["correct"][-1].append(r["correct"])
        cols["strict"][-1].append(r["correct_strict"])
    for cols in groups.values():
        cols["correct"] = [sum(v) / len(v) for v in cols["correct"]]
        cols["strict"] = [sum(v) / len(v) for v in cols["strict"]]
    return groups


def val_curve(run: dict) -> dict[str, list]:
    """The run's val evaluations (metrics/val_curve.json). Runs made before train wrote that file have dvclive's
    eval/val_accuracy.tsv, whose step column counts log calls: their evaluations were every train.eval_steps."""
    from dvc.exceptions import PathMissingError

    try:
        return json.loads(load_rev("metrics/val_curve.json", run["rev"]))
    except PathMissingError:
        tsv = load_rev("dvclive/train/plots/metrics/eval/val_accuracy.tsv", run["rev"]).strip().splitlines()
        values = [float(line.split("\t")[-1]) for line in tsv[1:]]
        every = run["params"]["train.eval_steps"]
        return {"step": [every * (i + 1) for i in range(len(values))], "val_accuracy": values}


def load_rev(path: str, rev: str) -> str:
    import dvc.api

    with dvc.api.open(path, rev=rev) as f:
        return f.read()


def export(name: str) -> Path:
    """One finished experiment, as `dvc exp show` and its outputs give it, in a file that git keeps: params,
    headline, test details, the val curve and every test question's outcome (tuned, base, and each snapshot)."""
    run = next(r for r in exp_show_runs() if r["name"] == name)
    rows = [json.loads(line) for line in load_rev("eval/predictions.jsonl", run["rev"]).splitlines()]
    details = json.loads(load_rev("metrics/eval_details.json", run["rev"]))
    curve = val_curve(run)
    snapshot_rows = [json.loads(line) for line in load_rev("eval/snapshot_predictions.jsonl", run["rev"]).splitlines()]
    p = run["params"]
    record = {
        "name": name, "rev": run["rev"], "profile": p["model"], "arm": p["train.arm"], "seed": p["train.seed"],
        "steps": p["train.max_steps"], "params": p, "metrics": run["metrics"], "settings": details["settings"],
        "details": details["test"],
        "val_curve": [[step, acc] for step, acc in zip(curve["step"], curve["val_accuracy"])],
        "tuned": outcomes([r for r in rows if r["model"] == "tuned"]),
        "base": outcomes([r for r in rows if r["model"] == "base"]),
        "snapshots": {str(step): {"headline": s["headline"],
                                  "tuned": outcomes([r for r in snapshot_rows if r["step"] == int(step)])}
                      for step, s in details.get("snapshots", {}).items()},
    }  # fmt: skip
    EXPORTS.mkdir(parents=True, exist_ok=True)
    from strawberry.jsonl import write_atomic

    write_atomic(exported(name), json.dumps(record, sort_keys=True) + "\n")
    return exported(name)


def load_exports(profile: str | None = None) -> list[dict]:
    """The v2 exports (they carry `settings`), of one profile if given."""
    found = [json.loads(p.read_text()) for p in sorted(EXPORTS.glob(f"{PREFIX}*.json"))]
    return [r for r in found if "settings" in r and (profile is None or r["profile"] == profile)]


# -- statistics ------------------------------------------------------------------------------------------------------


def subset(cols: dict[str, list], task: str, hard_only: bool) -> np.ndarray:
    return np.array([t == task and (h or not hard_only) for t, h in zip(cols["task"], cols["hard"])])


def cluster_bootstrap(left: list[dict], right: list[dict], task: str, hard_only: bool, field: str = "correct",
                      n: int = BOOTSTRAP, seed: int = 0) -> dict:  # fmt: skip
    """Accuracy of `left` runs minus `right` runs (each the mean over its runs) on the same questions, with a 95%
    interval and a two-sided p from a bootstrap that resamples words (each word's questions together: a word gives
    two questions per task) and, independently, each side's seeds (runs). `left`/`right` are outcome columns of one
    setting; a side with one run (base) contributes no seed variance."""
    mask = subset(left[0], task, hard_only)
    words = np.array(left[0]["word"])[mask]
    a = np.array([np.array(c[field])[mask] for c in left])
    b = np.array([np.array(c[field])[mask] for c in right])
    observed = float(a.mean() - b.mean())
    _, word_index = np.unique(words, return_inverse=True)
    rng = np.random.default_rng(seed)
    n_words = word_index.max() + 1
    draws = np.empty(n)
    for i in range(n):
        weights = np.bincount(rng.integers(0, n_words, n_words), minlength=n_words)[word_index]
        ra, rb = rng.integers(0, len(a), len(a)), rng.integers(0, len(b), len(b))
        draws[i] = (a[ra] @ weights).mean() / weights.sum() - (b[rb] @ weights).mean() / weights.sum()
    low, high = np.percentile(draws, [2.5, 97.5])
    p = min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean()))
    return {"diff": observed, "low": float(low), "high": float(high), "p": float(max(p, 1 / n)),
            "n_questions": int(mask.sum()), "n_words": int(n_words)}  # fmt: skip


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def accuracy_of(cols: dict, task: str, hard_only: bool, field: str = "correct") -> float:
    mask = subset(cols, task, hard_only)
    return float(np.array(cols[field])[mask].mean()) if mask.any() else float("nan")


# -- the page --------------------------------------------------------------------------------------------------------

def label(setting: str) -> str:
    """"3shot" -> "direct, 3-shot"; "spell_first_3shot" -> "spell-first, 3-shot"."""
    mode, _, shots = setting.rpartition("_")
    return f"{mode.replace('_', '-') or 'direct'}, {shots.removesuffix('shot')}-shot"


def arm_label(arm: str) -> str:
    return f"{arm} (control)" if arm in CONTROLS else arm


def report(exports: list[dict], figure: Path, default_steps: int, seeds: list[int], dose_factor: int,
           arms: Sequence[str] = ARMS) -> str:  # fmt: skip
    """docs/study.md: every number from the exports."""
    profiles = {r["profile"] for r in exports}
    if len(profiles) != 1:
        raise ValueError(f"the exports mix profiles {sorted(profiles)}: one study per profile")
    profile = profiles.pop()
    main = [r for r in exports if r["steps"] == default_steps]
    by_arm = {arm: sorted((r for r in main if r["arm"] == arm), key=lambda r: r["seed"]) for arm in ARMS}
    arms = [a for a in ARMS if by_arm[a]]
    dose = [r for r in exports if r["steps"] != default_steps]
    settings = exports[0]["settings"]
    base = exports[0]["base"]
    lines = [f"# Study v2: does spelling transfer? (profile `{profile}`)", "",
             "Generated by `python -m scripts.study report` from `metrics/study/study-*.json` (each run's `dvc exp "
             "show` row, test details, val curve and every test question's outcome, exported by `scripts.study "
             "run`); do not edit by hand.", "",
             "Arms (`train.arm`, same number of records, steps, batch, learning rate, constant-after-warmup schedule): "
             "**spelling** (the hypothesis: the model's own tokens spelled), **indexed** (the same tokens spelled "
             "with each letter's position, TIPA), and two **controls**: **positive_control** (position and count "
             "questions about words never in val/test: can this setup register *any* learned letter skill?) and "
             "**format_control** (the spelling reply shape with another token's letters: nothing about the token). "
             "Answer modes: **direct** (the answer only) and **spell-first** (spell the word, then the answer alone "
             "on the last line; non-thinking). k-shot questions take 3 draws of worked examples in turn. Lenient "
             "parse unless marked strict; mean ± standard deviation over seeds. **Hard** questions: position — the "
             "letter asked for is neither the word's first nor its last (no constant-position answer passes); count "
             "— true count 2 or more (always 0 and always 1 fail, but always 2 scores 0.5). **The measure that "
             "decides** is one no constant answer passes: hard position questions, and *all* count questions "
             f"(the best constant answer, always the most frequent true count, scores "
             f"{constant_level(exports, 'count'):.2f} on them).", "",
             "Runs: " + "; ".join(f"**{a}**: {', '.join(r['name'] for r in by_arm[a])}" for a in arms)
             + (f"; dose-response: {', '.join(r['name'] for r in dose)}" if dose else ""), ""]  # fmt: skip
    planned = {name for name, _ in plan(profile, seeds, dose_factor, default_steps, arms)}
    missing = sorted(planned - {r["name"] for r in exports})
    if missing:
        lines += [f"**Incomplete study**: {len(exports)} of {len(planned)} runs exported; still to run: "
                  f"{', '.join(missing)}. Arms with one run show no spread.", ""]  # fmt: skip

    compared: dict[tuple, dict] = {}

    def compare(a: str, b: str | None, task: str, s: str, hard_only: bool) -> dict:
        """Arm a minus arm b (None: base) on one setting; each bootstrap once (the tables and the reading share it)."""
        key = (a, b, task, s, hard_only)
        if key not in compared:
            right = [r["tuned"][s] for r in by_arm[b]] if b else [base[s]]
            compared[key] = cluster_bootstrap([r["tuned"][s] for r in by_arm[a]], right, task, hard_only)
        return compared[key]

    # The rule compares arms at the default length, so only their runs make it provisional, not the dose run.
    arm_runs = {name for name, _ in plan(profile, seeds, 0, default_steps, arms)}
    lines += reading(arms, settings, compare, bool(arm_runs & set(missing)))

    for hard_only, title in ((True, "Hard questions"), (False, "All questions")):
        lines += [f"## {title}: test accuracy", "",
                  "| task | setting | base | " + " | ".join(arm_label(a) for a in arms) + " | strict: base | "
                  + " | ".join(f"strict: {a}" for a in arms) + " |",
                  "|---" * (3 + 2 * len(arms) + 1) + "|"]  # fmt: skip
        for task in HEADLINE_TASKS:
            for s in settings:
                cells = [mean_sd([accuracy_of(r["tuned"][s], task, hard_only) for r in by_arm[a]]) for a in arms]
                strict = [mean_sd([accuracy_of(r["tuned"][s], task, hard_only, "strict") for r in by_arm[a]])
                          for a in arms]  # fmt: skip
                lines.append(f"| {task} | {label(s)} | {accuracy_of(base[s], task, hard_only):.3f} | "
                             + " | ".join(cells) + f" | {accuracy_of(base[s], task, hard_only, 'strict'):.3f} | "
                             + " | ".join(strict) + " |")  # fmt: skip
        lines.append("")

    comparisons = [(f"{arm_label(a)} − base", a, None) for a in arms]
    comparisons += [(f"{a} − format_control", a, "format_control") for a in ("spelling", "indexed")
                    if a in arms and "format_control" in arms]  # fmt: skip
    lines += ["## Comparisons", "",
              f"Difference in accuracy on the same test questions (each side the mean over its seeds), with a 95% "
              f"interval and a two-sided p from a bootstrap ({BOOTSTRAP:,} resamples) that resamples words (a word's "
              "questions together) and each arm's seeds, so both the question sample and training noise enter.", "",
              "| comparison | task | setting | subset | difference [95% CI] | p | questions |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for text, a, b in comparisons:
        for task in HEADLINE_TASKS:
            for s in settings:
                for hard_only in (True, False):
                    c = compare(a, b, task, s, hard_only)
                    lines.append(f"| {text} | {task} | {label(s)} | {'hard' if hard_only else 'all'} | "
                                 f"{c['diff']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}] | {c['p']:.3g} | "
                                 f"{c['n_questions']} |")  # fmt: skip
    lines.append("")

    if dose:
        run = dose[0]
        steps = sorted(run["snapshots"], key=int)
        lines += ["## Training length (dose-response)", "",
                  f"`{run['name']}`: one spelling run of {run['steps']} steps; the adapters at fixed steps, each on "
                  "the test questions (not selected on val). Hard-question accuracy:", "",
                  "| task | setting | base | " + " | ".join(f"step {s}" for s in steps) + " |",
                  "|---" * (3 + len(steps)) + "|"]  # fmt: skip
        for task in HEADLINE_TASKS:
            for s in settings:
                vals = [f"{accuracy_of(run['snapshots'][step]['tuned'][s], task, True):.3f}" for step in steps]
                lines.append(f"| {task} | {label(s)} | {accuracy_of(base[s], task, True):.3f} | " + " | ".join(vals)
                             + " |")  # fmt: skip
        lines.append("")

    lines += ["## Validation curves", "", "Val accuracy (direct, 3-shot, 100 position + 100 count questions) at each "
              "evaluation during training; the adapter kept is the best of these.", "",
              "| run | " + " | ".join(f"step {s}" for s, _ in exports[0]["val_curve"]) + " |",
              "|---" * (1 + len(exports[0]["val_curve"])) + "|"]  # fmt: skip
    for r in sorted(main, key=lambda r: r["name"]):
        lines.append(f"| {r['name']} | " + " | ".join(f"{v:.3f}" for _, v in r["val_curve"]) + " |")
    for r in dose:
        lines += ["", f"`{r['name']}`: " + ", ".join(f"{s}: {v:.3f}" for s, v in r["val_curve"])]
    plot_deciding(base, by_arm, arms, settings, {t: constant_level(exports, t) for t in HEADLINE_TASKS}, figure)
    lines += ["", f"![accuracy on the measure that decides, per arm and answer mode](study/{figure.name})", ""]
    return "\n".join(lines) + "\n"


def constant_level(exports: list[dict], task: str) -> float:
    """What the best constant answer scores on the task's deciding measure: 0 on hard position questions (by their
    definition); on count questions the most frequent true count's share (1/4 on the balanced test set), the highest
    over the runs' question sets."""
    if DECIDING_HARD_ONLY[task]:
        return 0.0
    return max(r["details"][task]["strategies"]["majority"] for r in exports)


def reading(arms: list[str], settings: list[str], compare, incomplete: bool) -> list[str]:
    """Which of the issue's three readings the exports support, by a stated rule on the deciding measure: an arm
    *improves* a (task, setting) cell when it beats both base and format_control there with bootstrap p below
    ALPHA / the number of cells (Bonferroni). (c) spelling or indexed improves some cell; else (a) positive_control
    does; else (b) neither: this setup cannot detect transfer."""
    cells = [(task, s) for task in HEADLINE_TASKS for s in settings]
    threshold = ALPHA / len(cells)
    head = ["## Reading", "",
            f"Rule: an arm *improves* a task and setting when, on the measure that "
            f"decides, it beats both base and format_control with bootstrap p < {ALPHA} / {len(cells)} cells = "
            f"{threshold:.4f} (Bonferroni per arm). (c) spelling or indexed spelling improves some cell; otherwise "
            "(a) if the positive control improves some cell, spelling does not transfer here; otherwise (b) nothing "
            "transfers in this setup, and the spelling null is not evidence.", ""]  # fmt: skip
    if "format_control" not in arms or "positive_control" not in arms:
        return head + ["**Not decidable**: the reading needs runs of both controls.", ""]

    def improved(arm: str) -> list[str]:
        found = []
        for task, s in cells:
            hard_only = DECIDING_HARD_ONLY[task]
            vs_base, vs_control = compare(arm, None, task, s, hard_only), compare(arm, "format_control", task, s,
                                                                                  hard_only)  # fmt: skip
            if all(c["diff"] > 0 and c["p"] < threshold for c in (vs_base, vs_control)):
                found.append(f"{task}, {label(s)}: {vs_base['diff']:+.3f} [{vs_base['low']:+.3f}, "
                             f"{vs_base['high']:+.3f}] over base, {vs_control['diff']:+.3f} [{vs_control['low']:+.3f}, "
                             f"{vs_control['high']:+.3f}] over format_control")  # fmt: skip
        return found

    found = {a: improved(a) for a in ("spelling", "indexed", "positive_control") if a in arms}
    hypothesis = {a: f for a, f in found.items() if a != "positive_control" and f}
    if hypothesis:
        verdict = ("**(c)** spelling training improves the measure that decides: " + "; ".join(
            f"{a} — {'; '.join(f)}" for a, f in hypothesis.items()))  # fmt: skip
    elif found.get("positive_control"):
        verdict = ("**(a)** the positive control improves it (" + "; ".join(found["positive_control"])
                   + ") and neither spelling arm does: spelling does not transfer here.")  # fmt: skip
    else:
        verdict = ("**(b)** no arm improves it, not even the positive control: this setup cannot detect transfer, "
                   "and the spelling null is not evidence.")  # fmt: skip
    prefix = "Provisional (arm runs are still to run): " if incomplete else ""
    return head + [prefix + verdict, ""]


def plot_deciding(base: dict, by_arm: dict, arms: list[str], settings: list[str], levels: dict[str, float],
                  path: Path) -> None:  # fmt: skip
    """Accuracy on the measure that decides (DECIDING_HARD_ONLY) per arm and answer mode: seeds as dots, their mean
    as a bar, base as a dashed line, the best constant answer as a dotted one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(HEADLINE_TASKS), len(settings), figsize=(4.6 * len(settings), 3.6 * 2),
                             squeeze=False)  # fmt: skip
    for row, task in enumerate(HEADLINE_TASKS):
        for col, s in enumerate(settings):
            ax = axes[row][col]
            hard_only = DECIDING_HARD_ONLY[task]
            values = [[accuracy_of(r["tuned"][s], task, hard_only) for r in by_arm[a]] for a in arms]
            ax.bar(range(len(arms)), [statistics.mean(v) for v in values], color="#ddd", edgecolor="#555")
            for i, v in enumerate(values):
                ax.scatter([i] * len(v), v, color="#c0392b", zorder=3, s=18)
            ax.axhline(accuracy_of(base[s], task, hard_only), color="#2c3e50", ls="--", lw=1, label="base")
            ax.axhline(levels[task], color="#7f8c8d", ls=":", lw=1, label="best constant answer")
            ax.set_xticks(range(len(arms)), [arm_label(a).replace(" (control)", "\n(control)") for a in arms],
                          fontsize=7)  # fmt: skip
            ax.set_ylim(0, max(0.5, *[max(v) for v in values if v]) + 0.05)
            ax.set_title(f"{task}, {'hard' if hard_only else 'all'} questions, {label(s)}", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)

