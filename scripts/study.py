"""The arms x seeds study: run it through DVC experiments, then aggregate it into a page.

    .venv/bin/python -m scripts.study run [--model qwen25-coder-05b] [--seeds 1 2 3] [--long 4]
    .venv/bin/python -m scripts.study report [--out docs/study.md]

`run` starts one `dvc exp run --temp` per arm (spelling, format_control) and seed, plus the spelling arm trained
`--long` times the default steps. The base model's answers come from evaluate_base once (every other run reuses
them). After each run it exports the run to `metrics/study/<name>.json`: its params and headline numbers as
`dvc exp show --json` lists them, its metrics/eval_details.json, and every test question's outcome (tuned and
base) from its eval/predictions.jsonl. Commit those files: they are the study's record, and a run already
exported is skipped, so a study cut off by the end of a session resumes where it stopped (the experiment that
was running is not counted as finished: it runs again).

`report` aggregates the exports: per arm the mean and spread over seeds, spelling minus control and tuned minus
base with a paired sign-flip permutation test over questions that uses every seed's answers, and plots across
arms. Every number on the page comes from those files.
"""

import argparse
import json
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from scripts.transfer_analysis import runs
from strawberry.answers import COUNT_CLASSES, POSITION_CATEGORIES
from strawberry.jsonl import write_atomic
from strawberry.params import load_params

PREFIX = "study-"
LONG_FACTOR = 4  # the spelling arm's longer run: this many times the default training steps
HEADLINE_TASKS = ("position", "count")
CLASSES = {"position": POSITION_CATEGORIES, "count": COUNT_CLASSES}


def plan(model: str | None, seeds: list[int], long_factor: int, default_steps: int) -> list[tuple[str, list[str]]]:
    """(experiment name, -S overrides) for every run of the study."""
    base = [f"model={model}"] if model else []
    runs_ = [(f"{PREFIX}{arm}-s{seed}", [*base, f"train.arm={arm}", f"train.seed={seed}"])
             for arm in ("spelling", "format_control") for seed in seeds]  # fmt: skip
    if long_factor > 1:
        steps = default_steps * long_factor
        # No early stopping (patience ≥ the number of evaluations): the run is about training the whole length;
        # the best checkpoint is still chosen on val.
        runs_.append((f"{PREFIX}spelling-x{long_factor}-s{seeds[0]}",
                      [*base, "train.arm=spelling", f"train.seed={seeds[0]}", f"train.max_steps={steps}",
                       f"train.patience={steps}"]))  # fmt: skip
    return runs_


EXPORTS = Path("metrics/study")


def exported(name: str) -> Path:
    return EXPORTS / f"{name}.json"


def run_study(args: argparse.Namespace) -> None:
    default_steps = load_params()["train"]["max_steps"]
    todo = plan(args.model, args.seeds, args.long, default_steps)
    for i, (name, overrides) in enumerate(todo, 1):
        if exported(name).is_file():
            print(f"[{i}/{len(todo)}] {name}: already exported to {exported(name)}, skipped", flush=True)
            continue
        print(f"[{i}/{len(todo)}] {name}: dvc exp run --temp {' '.join('-S ' + o for o in overrides)}", flush=True)
        if name not in {r["name"] for r in exp_show_runs()}:
            command = ["dvc", "exp", "run", "--temp", "-n", name] + [a for o in overrides for a in ("-S", o)]
            if subprocess.run(command).returncode != 0:
                sys.exit(f"{name} failed; the experiments before it are kept (rerun to resume)")
        export(name)
        print(f"[{i}/{len(todo)}] {name}: exported to {exported(name)} (commit it)", flush=True)


def exp_show_runs() -> list[dict]:
    shown = subprocess.run(["dvc", "exp", "show", "--json"], capture_output=True, text=True, check=True).stdout
    return runs(json.loads(shown))


def load_rev(path: str, rev: str) -> str:
    import dvc.api

    with dvc.api.open(path, rev=rev) as f:
        return f.read()


def export(name: str) -> None:
    """One finished experiment, as `dvc exp show` and its outputs give it, in a file that git can keep."""
    run = next(r for r in exp_show_runs() if r["name"] == name)
    rows = [json.loads(line) for line in load_rev("eval/predictions.jsonl", run["rev"]).splitlines()]
    record = {
        "name": name,
        "rev": run["rev"],
        "params": run["params"],
        "metrics": run["metrics"],
        "details": json.loads(load_rev("metrics/eval_details.json", run["rev"]))["test"],
        "profile": run["params"]["model"],
        "tuned": outcomes(rows, "tuned"),
        "base": outcomes(rows, "base"),
    }
    EXPORTS.mkdir(parents=True, exist_ok=True)
    write_atomic(exported(name), json.dumps(record, indent=None, sort_keys=True) + "\n")


def arm_label(run: dict, default_steps: int) -> str:
    """The arm, with its training length when that is not the default ("spelling ×4")."""
    p = run["params"]
    steps = p.get("train.max_steps", default_steps)
    return p.get("train.arm", "spelling") + (f" ×{steps // default_steps}" if steps != default_steps else "")


def sign_flip_p(diffs: list[float], n_perm: int = 20000, seed: int = 0) -> float:
    """Two-sided paired permutation test: under 'no difference' each question's difference is as likely to have
    the other sign. Questions are the unit; every seed's answers enter through the per-question means."""
    d = np.asarray(diffs, dtype=float)
    if not d.any():
        return 1.0
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_perm, len(d)))
    null = np.abs((signs * d).mean(axis=1))
    return float((np.sum(null >= abs(d.mean()) - 1e-12) + 1) / (n_perm + 1))


def outcomes(rows: list[dict], model: str) -> dict[str, float]:
    """ "task|shots|question" -> the model's accuracy on that test question (mean over samples when sampled)."""
    groups = defaultdict(list)
    sampled = any(r.get("decoding") == "sampled" for r in rows)
    for r in rows:
        if r["set"] == "test" and r["model"] == model and r.get("decoding", "greedy") == ("sampled" if sampled
                                                                                          else "greedy"):  # fmt: skip
            groups[f"{r['meta']['task']}|{r['shots']}|{r['question']}"].append(r["correct"])
    return {k: sum(v) / len(v) for k, v in groups.items()}


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def paired(a: list[dict[str, float]], b: list[dict[str, float]], task: str, k: int) -> tuple[float, float, int]:
    """Mean over questions of (mean over a's seeds) - (mean over b's seeds), its sign-flip p, and n questions."""
    prefix = f"{task}|{k}|"
    keys = sorted(q for q in a[0] if q.startswith(prefix) and all(q in x for x in a + b))
    diffs = [statistics.mean(x[q] for x in a) - statistics.mean(x[q] for x in b) for q in keys]
    return (statistics.mean(diffs) if diffs else 0.0), sign_flip_p(diffs), len(keys)


def report(all_runs: list[dict], out: Path, default_steps: int) -> str:
    by_arm: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(all_runs, key=lambda r: r["name"]):
        by_arm[arm_label(r, default_steps)].append(r)
    arms = sorted(by_arm, key=lambda a: (a != "spelling", a.startswith("spelling"), a))
    shots = sorted(int(k.split(".")[1].removesuffix("shot")) for k in all_runs[0]["metrics"]
                   if k.startswith("position.") and k.endswith(".tuned"))  # fmt: skip
    details = {r["name"]: r["details"] for r in all_runs}
    answers = {r["name"]: r["tuned"] for r in all_runs}
    base = all_runs[0]["base"]
    profile = all_runs[0]["profile"]
    if len({r["profile"] for r in all_runs}) > 1:
        raise ValueError(f"the exports mix profiles {sorted({r['profile'] for r in all_runs})}: one study per profile")

    lines = [f"# Study: spelling vs format-control arms × seeds (profile `{profile}`)", "",
             "Generated by `python -m scripts.study report` from `metrics/study/*.json` (each experiment's "
             "`dvc exp show --json` row, `metrics/eval_details.json` and per-question outcomes, exported by "
             "`scripts.study run`); do not edit by hand. Test accuracy, "
             "lenient parse; mean ± standard deviation over seeds. Base = the same model without the adapter (one "
             "set of answers, shared by all runs). Strategy = the best constant strategy on these questions; hard = "
             "the questions no constant strategy gets right (position: neither the first nor the last letter; count: "
             "true count 2 or more).", "",
             "Runs: " + "; ".join(f"**{a}**: {', '.join(r['name'] for r in by_arm[a])}" for a in arms), ""]  # fmt: skip
    seeds = sorted({int(r["params"].get("train.seed", 0)) for r in all_runs})
    missing = [name for name, _ in plan(None, seeds, LONG_FACTOR, default_steps) if name not in details]
    if missing:
        command = f"scripts.study run --seeds {' '.join(map(str, seeds))} --long {LONG_FACTOR}"
        lines += [f"**Incomplete study**: `{command}` would also run {', '.join(missing)}; arms with one run show "
                  "no spread.", ""]  # fmt: skip
    for task in HEADLINE_TASKS:
        lines += [f"## {task.capitalize()}", "",
                  "| shots | base | strategy | " + " | ".join(arms) + " | hard: base | " +
                  " | ".join(f"hard: {a}" for a in arms) + " |",
                  "|---" * (4 + 2 * len(arms)) + "|"]  # fmt: skip
        for k in shots:
            first = all_runs[0]["metrics"]
            tuned = [mean_sd([r["metrics"][f"{task}.{k}shot.tuned"] for r in by_arm[a]]) for a in arms]
            hard = [mean_sd([r["metrics"][f"{task}.{k}shot.tuned_hard"] for r in by_arm[a]]) for a in arms]
            lines.append(f"| {k} | {first[f'{task}.{k}shot.base']:.3f} | {first[f'{task}.{k}shot.strategy']:.3f} | "
                         + " | ".join(tuned) + f" | {first[f'{task}.{k}shot.base_hard']:.3f} | "
                         + " | ".join(hard) + " |")  # fmt: skip
        lines += ["", f"Per {'position asked' if task == 'position' else 'true count'} "
                  "(base; then each arm, mean over seeds):", "",
                  "| shots | class | n | base | " + " | ".join(arms) + " |",
                  "|---" * (4 + len(arms)) + "|"]  # fmt: skip
        for k in shots:
            for c in CLASSES[task]:
                cells = [details[r["name"]][task][f"{k}shot"]["by_class"][c] for r in all_runs]
                per_arm = [mean_sd([details[r["name"]][task][f"{k}shot"]["by_class"][c]["tuned"]["accuracy"]
                                    for r in by_arm[a]]) for a in arms]  # fmt: skip
                lines.append(f"| {k} | {c} | {cells[0]['tuned']['n']} | {cells[0]['base']['accuracy']:.3f} | "
                             + " | ".join(per_arm) + " |")  # fmt: skip
        lines.append("")
    lines += ["## Paired comparisons", "",
              "Difference in accuracy over the same test questions, each arm's answers averaged over its seeds "
              "first; p from a two-sided sign-flip permutation test over questions (20,000 permutations). The "
              "question is the unit because every run answers the same questions; averaging a question's outcome "
              "over seeds first uses every seed's paired answers and lets training noise enter the per-question "
              "differences. With few seeds, also read the spread over seeds above.", "",
              "| comparison | task | shots | difference | p | n questions |", "|---|---|---|---|---|---|"]  # fmt: skip
    comparisons = [(f"{a} − base", a, None) for a in arms]
    if "spelling" in by_arm and "format_control" in by_arm:
        comparisons.insert(0, ("spelling − format_control", "spelling", "format_control"))
    # Does the effect grow with training? The longer run against the default-length arm (all its seeds).
    if "spelling" in by_arm:
        comparisons += [(f"{a} − spelling", a, "spelling") for a in arms if a.startswith("spelling ×")]
    for label, a, b in comparisons:
        for task in HEADLINE_TASKS:
            for k in shots:
                left = [answers[r["name"]] for r in by_arm[a]]
                right = [answers[r["name"]] for r in by_arm[b]] if b else [base]
                diff, p, n = paired(left, right, task, k)
                lines.append(f"| {label} | {task} | {k} | {diff:+.3f} | {p:.3g} | {n} |")
    plot = out.parent / "study" / "arms.png"
    plot_arms(all_runs, by_arm, arms, shots, plot)
    lines += ["", f"![arms]({plot.relative_to(out.parent)})", ""]
    return "\n".join(lines) + "\n"


def plot_arms(all_runs: list[dict], by_arm: dict, arms: list[str], shots: list[int], path: Path) -> None:
    """Per task and shot count: base, then each arm's seeds as dots with their mean as a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(HEADLINE_TASKS), len(shots), figsize=(5 * len(shots), 3.6 * len(HEADLINE_TASKS)),
                             squeeze=False)  # fmt: skip
    for row, task in enumerate(HEADLINE_TASKS):
        for col, k in enumerate(shots):
            ax = axes[row][col]
            key = f"{task}.{k}shot."
            labels = ["base", *arms]
            values = [[all_runs[0]["metrics"][key + "base"]]] + [[r["metrics"][key + "tuned"] for r in by_arm[a]]
                                                                 for a in arms]  # fmt: skip
            ax.bar(range(len(labels)), [statistics.mean(v) for v in values], color="#ddd", edgecolor="#555")
            for i, v in enumerate(values):
                ax.scatter([i] * len(v), v, color="#c0392b", zorder=3, s=18)
            ax.axhline(all_runs[0]["metrics"][key + "strategy"], color="k", ls="--", lw=1,
                       label="best constant strategy")  # fmt: skip
            ax.set_xticks(range(len(labels)), labels, fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_title(f"{task}, {k}-shot (dots: seeds)")
            ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report_study(args: argparse.Namespace) -> None:
    default_steps = load_params()["train"]["max_steps"]
    study = [json.loads(p.read_text()) for p in sorted(EXPORTS.glob(f"{PREFIX}*.json"))]
    if args.profile:
        study = [r for r in study if r["profile"] == args.profile]
    if not study:
        sys.exit(f"no {EXPORTS}/{PREFIX}*.json: run `python -m scripts.study run` first")
    write_atomic(args.out, report(study, args.out, default_steps))
    print(f"wrote {args.out} ({len(study)} experiments)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run the arms x seeds experiments (skips those already done)")
    run_p.add_argument("--model", help="profile for every run (default: params.yaml's model)")
    run_p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    run_p.add_argument("--long", type=int, default=LONG_FACTOR,
                       help="also the spelling arm at this many times the steps (0: no)")  # fmt: skip
    rep_p = sub.add_parser("report", help="aggregate the study into a page")
    rep_p.add_argument("--out", type=Path, default=Path("docs/study.md"))
    rep_p.add_argument("--profile", help="only the exports of this profile")
    args = parser.parse_args(argv)
    run_study(args) if args.command == "run" else report_study(args)


if __name__ == "__main__":
    main()
