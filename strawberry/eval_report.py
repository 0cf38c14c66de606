"""evaluate's report: the headline (metrics/eval.json, the only numbers `dvc exp show` lists), the details beside
it (metrics/eval_details.json: intervals, strategies, per-class and hard-question accuracy) and breakdown plots."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from strawberry.evaluation import (  # noqa: E402
    BREAKDOWNS,
    CLASSES,
    TASKS,
    accuracy,
    breakdown,
    compare,
    is_hard,
    question_class,
    strategies,
)

MODELS = ("base", "tuned")
COLORS = {"base": "#95a5a6", "tuned": "#c0392b"}


def shot_key(k: int) -> str:
    return f"{k}shot"


def of_task(rows: list[dict], task: str) -> list[dict]:
    return [r for r in rows if r["meta"]["task"] == task]


def hard_only(rows: list[dict], task: str) -> list[dict]:
    return [r for r in rows if is_hard(task, r["meta"], r["expected"])]


def of_class(rows: list[dict], task: str, cls: str) -> list[dict]:
    return [r for r in rows if question_class(task, r["meta"], r["expected"]) == cls]


def task_details(rows: dict[tuple[str, int], list[dict]], questions: list[dict], shots: list[int],
                 greedy: dict[tuple[str, int], list[dict]] | None = None) -> dict:  # fmt: skip
    """Per task: the strategy baselines, then per shot count base and tuned accuracy (interval, strict, format
    rate), tuned minus base (McNemar), tuned minus the best strategy, accuracy on the hard questions (those no
    constant strategy gets right) and per class (first/middle/last; true count 0/1/2/3+). `rows[(model, k)]` holds
    scored replies in question order; `greedy` the same for greedy decoding when the headline is sampled."""
    out = {}
    for task in TASKS:
        task_questions = of_task(questions, task)
        if not task_questions:
            continue
        strategy = strategies(task, task_questions)
        best = max(strategy, key=strategy.get)
        entry: dict = {"n": len(task_questions), "strategies": strategy,
                       "strategy_baseline": {"name": best, "accuracy": strategy[best]}}  # fmt: skip
        for k in shots:
            pick = {m: of_task(rows[(m, k)], task) for m in MODELS}
            cell = {m: accuracy(pick[m]) for m in MODELS} | compare(pick["base"], pick["tuned"])
            cell["tuned_minus_strategy"] = cell["tuned"]["accuracy"] - strategy[best]
            if task in CLASSES:
                hard = {m: hard_only(pick[m], task) for m in MODELS}
                cell["hard"] = {m: accuracy(hard[m]) for m in MODELS} | compare(hard["base"], hard["tuned"])
                cell["by_class"] = {c: {m: accuracy(of_class(pick[m], task, c)) for m in MODELS}
                                    for c in CLASSES[task]}  # fmt: skip
            if greedy:
                cell["greedy"] = {m: accuracy(of_task(greedy[(m, k)], task)) for m in MODELS}
            entry[shot_key(k)] = cell
        out[task] = entry
    return out


def headline(details: dict, shots: list[int]) -> dict:
    """The few numbers runs are compared by: per task and shot count base, tuned, the strategy baseline and
    (position, count) the hard-question accuracy of both."""
    out = {}
    for task, entry in details.items():
        out[task] = {}
        for k in shots:
            cell = entry[shot_key(k)]
            row = {"base": cell["base"]["accuracy"], "tuned": cell["tuned"]["accuracy"],
                   "strategy": entry["strategy_baseline"]["accuracy"]}  # fmt: skip
            if "hard" in cell:
                row |= {"base_hard": cell["hard"]["base"]["accuracy"], "tuned_hard": cell["hard"]["tuned"]["accuracy"]}
            out[task][shot_key(k)] = row
    return out


def error_bars(cells: list[dict]) -> list[list[float]]:
    """Distances from each accuracy to its interval's ends, never negative (matplotlib refuses those)."""
    return [
        [max(0.0, c["accuracy"] - c["ci_low"]) for c in cells],
        [max(0.0, c["ci_high"] - c["accuracy"]) for c in cells],
    ]


def plot_headline(details: dict, shots: list[int], path: Path, dpi: int = 110) -> None:
    """Accuracy per task, base vs tuned, per shot count, with 95% intervals and the best constant strategy."""
    tasks = list(details)
    fig, axes = plt.subplots(1, len(shots), figsize=(6 * len(shots), 4), squeeze=False)
    for ax, k in zip(axes[0], shots):
        for j, model in enumerate(MODELS):
            acc = [details[t][shot_key(k)][model] for t in tasks]
            xs = [i + (j - 0.5) * 0.38 for i in range(len(tasks))]
            ax.bar(xs, [a["accuracy"] for a in acc], width=0.38, yerr=error_bars(acc), capsize=4, label=model,
                   color=COLORS[model])  # fmt: skip
        for i, t in enumerate(tasks):
            ax.hlines(details[t]["strategy_baseline"]["accuracy"], i - 0.4, i + 0.4, colors="k", linestyles="dashed",
                      label="best constant strategy" if i == 0 else None)  # fmt: skip
        ax.set_xticks(range(len(tasks)), tasks)
        ax.set_ylim(0, 1)
        ax.set_title(f"test accuracy, {k}-shot (lenient parse, 95% CI)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_classes(details: dict, shots: list[int], path: Path, dpi: int = 110) -> None:
    """Accuracy per class (position: first/middle/last; count: true count 0/1/2/3+), base vs tuned."""
    tasks = [t for t in CLASSES if t in details]
    fig, axes = plt.subplots(len(tasks), len(shots), figsize=(5.5 * len(shots), 3.4 * len(tasks)), squeeze=False)
    for row, task in enumerate(tasks):
        for col, k in enumerate(shots):
            ax, by_class = axes[row][col], details[task][shot_key(k)]["by_class"]
            for j, model in enumerate(MODELS):
                acc = [by_class[c][model] for c in CLASSES[task]]
                xs = [i + (j - 0.5) * 0.38 for i in range(len(acc))]
                ax.bar(xs, [a["accuracy"] for a in acc], width=0.38, yerr=error_bars(acc), capsize=3, label=model,
                       color=COLORS[model])  # fmt: skip
            ax.set_xticks(range(len(CLASSES[task])), [f"{task}: {c}" for c in CLASSES[task]], fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_title(f"{task} by {'position asked' if task == 'position' else 'true count'}, {k}-shot")
            ax.legend(fontsize=8)
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
            for model in MODELS:
                data = breakdown(rows[(model, k)], key)
                ax.plot(list(data), list(data.values()), "o-", color=COLORS[model], label=model)
            ax.set_ylim(0, 1)
            ax.set_title(f"accuracy by {key.replace('_', ' ')}, {k}-shot")
            ax.legend()
        fig.tight_layout()
        path = out_dir / f"by_{key}.png"
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        paths.append(path)
    return paths
