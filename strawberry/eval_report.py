"""evaluate's report: metrics/eval.json (headline numbers for `dvc metrics diff`) and breakdown plots."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from strawberry.evaluation import BREAKDOWNS, TASKS, accuracy, balanced_counts, breakdown, chance, compare  # noqa: E402

ARMS = ("base", "tuned")


def shot_key(k: int) -> str:
    return f"{k}shot"


def task_metrics(rows: dict[tuple[str, int], list[dict]], questions: list[dict], shots: list[int], seed: int) -> dict:
    """Per task: base and tuned accuracy (Wilson 95% interval, strict, format rate) per shot count, tuned minus
    base with McNemar's exact p, and the chance baseline. `rows[(arm, k)]` holds scored replies in question order."""
    out = {}
    for task in TASKS:
        task_questions = [q for q in questions if q["meta"]["task"] == task]
        if not task_questions:
            continue
        entry: dict = {"chance": chance(task, task_questions)}
        for k in shots:
            pick = {arm: [r for r in rows[(arm, k)] if r["meta"]["task"] == task] for arm in ARMS}
            entry[shot_key(k)] = {arm: accuracy(pick[arm]) for arm in ARMS} | compare(pick["base"], pick["tuned"])
            if task == "count":
                balanced = {arm: balanced_counts(pick[arm], seed) for arm in ARMS}
                entry[shot_key(k)]["balanced_0to3"] = {arm: accuracy(balanced[arm])["accuracy"] for arm in ARMS} | {
                    "n": len(balanced["base"])
                }
        out[task] = entry
    return out


def plot_headline(metrics: dict, shots: list[int], path: Path, dpi: int = 110) -> None:
    """Accuracy per task, base vs tuned, per shot count, with 95% intervals and the chance baseline."""
    tasks = list(metrics)
    fig, axes = plt.subplots(1, len(shots), figsize=(6 * len(shots), 4), squeeze=False)
    for ax, k in zip(axes[0], shots):
        for j, arm in enumerate(ARMS):
            acc = [metrics[t][shot_key(k)][arm] for t in tasks]
            xs = [i + (j - 0.5) * 0.38 for i in range(len(tasks))]
            err = [[a["accuracy"] - a["ci_low"] for a in acc], [a["ci_high"] - a["accuracy"] for a in acc]]
            ax.bar(xs, [a["accuracy"] for a in acc], width=0.38, yerr=err, capsize=4, label=arm,
                   color=("#95a5a6", "#c0392b")[j])  # fmt: skip
        for i, t in enumerate(tasks):
            ax.hlines(metrics[t]["chance"], i - 0.4, i + 0.4, colors="k", linestyles="dashed",
                      label="chance" if i == 0 else None)  # fmt: skip
        ax.set_xticks(range(len(tasks)), tasks)
        ax.set_ylim(0, 1)
        ax.set_title(f"test accuracy, {k}-shot (lenient parse, 95% CI)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_breakdowns(rows: dict[tuple[str, int], list[dict]], shots: list[int], out_dir: Path, dpi: int = 110
                    ) -> list[Path]:  # fmt: skip
    """One figure per breakdown (word length, position, true count, ...): base vs tuned, one panel per shot count."""
    paths = []
    for key in BREAKDOWNS:
        fig, axes = plt.subplots(1, len(shots), figsize=(6 * len(shots), 3.6), squeeze=False)
        for ax, k in zip(axes[0], shots):
            for arm, color in zip(ARMS, ("#95a5a6", "#c0392b")):
                data = breakdown(rows[(arm, k)], key)
                ax.plot(list(data), list(data.values()), "o-", color=color, label=arm)
            ax.set_ylim(0, 1)
            ax.set_title(f"accuracy by {key.replace('_', ' ')}, {k}-shot")
            ax.legend()
        fig.tight_layout()
        path = out_dir / f"by_{key}.png"
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        paths.append(path)
    return paths
