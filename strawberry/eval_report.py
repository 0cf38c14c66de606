"""evaluate's report: the headline (metrics/eval.json, the only numbers `dvc exp show` lists), the details beside
it (metrics/eval_details.json: intervals, strategies, per-class and hard-question accuracy) and breakdown plots."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from strawberry.answers import COUNT_CLASSES, count_class  # noqa: E402
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


def of_task(rows: list[dict], task: str) -> list[dict]:
    return [r for r in rows if r["meta"]["task"] == task]


def hard_only(rows: list[dict], task: str) -> list[dict]:
    return [r for r in rows if is_hard(task, r["meta"], r["expected"])]


def of_class(rows: list[dict], task: str, cls: str) -> list[dict]:
    return [r for r in rows if question_class(task, r["meta"], r["expected"]) == cls]


def task_details(rows: dict[tuple[str, str], list[dict]], questions: list[dict], settings: list[str],
                 greedy: dict[tuple[str, str], list[dict]] | None = None) -> dict:  # fmt: skip
    """Per task: the strategy baselines, then per setting (answer mode and shots, e.g. "0shot",
    "spell_first_3shot") base and tuned accuracy (interval, strict beside lenient, format rate), tuned minus base
    (McNemar), tuned minus the best strategy, accuracy on the hard questions (those no constant strategy gets
    right), per class (first/middle/last; true count 0/1/2/3+), per question template, and for count the confusion
    of true and answered count. `rows[(model, setting)]` holds scored replies in question order; `greedy` the same
    for greedy decoding when the headline is sampled."""
    out = {}
    for task in TASKS:
        task_questions = of_task(questions, task)
        if not task_questions:
            continue
        strategy = strategies(task, task_questions)
        best = max(strategy, key=strategy.get)
        entry: dict = {"n": len(task_questions), "strategies": strategy,
                       "strategy_baseline": {"name": best, "accuracy": strategy[best]}}  # fmt: skip
        for setting in settings:
            pick = {m: of_task(rows[(m, setting)], task) for m in MODELS}
            if not pick["tuned"]:  # a setting that does not ask this task (spell_first: no length questions)
                continue
            cell = {m: accuracy(pick[m]) for m in MODELS} | compare(pick["base"], pick["tuned"])
            cell["tuned_minus_strategy"] = cell["tuned"]["accuracy"] - strategy[best]
            if task in CLASSES:
                hard = {m: hard_only(pick[m], task) for m in MODELS}
                cell["hard"] = {m: accuracy(hard[m]) for m in MODELS} | compare(hard["base"], hard["tuned"])
                cell["by_class"] = {c: {m: accuracy(of_class(pick[m], task, c)) for m in MODELS}
                                    for c in CLASSES[task]}  # fmt: skip
            cell["by_template"] = {t: {m: accuracy([r for r in pick[m] if r["meta"]["template_id"] == t])
                                       for m in MODELS}
                                   for t in sorted({r["meta"]["template_id"] for r in pick["tuned"]})}  # fmt: skip
            if task == "count":
                cell["confusion"] = {m: count_confusion(pick[m]) for m in MODELS}
            if greedy:
                cell["greedy"] = {m: accuracy(of_task(greedy[(m, setting)], task)) for m in MODELS}
            entry[setting] = cell
        out[task] = entry
    return out


ANSWERED = (*COUNT_CLASSES, "none")  # answered count classes; none = no number in the reply


def count_confusion(rows: list[dict]) -> dict[str, dict[str, int]]:
    """True count class -> answered count class -> replies (lenient parse): a shift from "1" to "2" at a glance."""
    table = {c: dict.fromkeys(ANSWERED, 0) for c in COUNT_CLASSES}
    for r in rows:
        answered = count_class(r["lenient"]) if r["lenient"] is not None else "none"
        table[count_class(r["expected"])][answered] += 1
    return table


HEADLINE_TASKS = ("position", "count")  # length is a side task: in the details, not the headline


def headline(details: dict, settings: list[str]) -> dict:
    """The few numbers runs are compared by (`dvc exp show`; at most 40 with metrics/train.json): per headline
    task and setting base, tuned (lenient), the strategy baseline, both on the hard questions, and tuned strict."""
    out = {}
    for task in HEADLINE_TASKS:
        entry = details.get(task)
        if not entry:
            continue
        out[task] = {}
        for setting in settings:
            cell = entry.get(setting)
            if cell is None:
                continue
            out[task][setting] = {"base": cell["base"]["accuracy"], "tuned": cell["tuned"]["accuracy"],
                                  "strategy": entry["strategy_baseline"]["accuracy"],
                                  "base_hard": cell["hard"]["base"]["accuracy"],
                                  "tuned_hard": cell["hard"]["tuned"]["accuracy"],
                                  "tuned_strict": cell["tuned"]["strict_accuracy"]}  # fmt: skip
    return out


def error_bars(cells: list[dict]) -> list[list[float]]:
    """Distances from each accuracy to its interval's ends, never negative (matplotlib refuses those)."""
    return [
        [max(0.0, c["accuracy"] - c["ci_low"]) for c in cells],
        [max(0.0, c["ci_high"] - c["accuracy"]) for c in cells],
    ]


def plot_headline(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Accuracy per task, base vs tuned, per setting, with 95% intervals and the best constant strategy."""
    fig, axes = plt.subplots(1, len(settings), figsize=(6 * len(settings), 4), squeeze=False)
    for ax, k in zip(axes[0], settings):
        tasks = [t for t in details if k in details[t]]
        for j, model in enumerate(MODELS):
            acc = [details[t][k][model] for t in tasks]
            xs = [i + (j - 0.5) * 0.38 for i in range(len(tasks))]
            ax.bar(xs, [a["accuracy"] for a in acc], width=0.38, yerr=error_bars(acc), capsize=4, label=model,
                   color=COLORS[model])  # fmt: skip
        for i, t in enumerate(tasks):
            ax.hlines(details[t]["strategy_baseline"]["accuracy"], i - 0.4, i + 0.4, colors="k", linestyles="dashed",
                      label="best constant strategy" if i == 0 else None)  # fmt: skip
        ax.set_xticks(range(len(tasks)), tasks)
        ax.set_ylim(0, 1)
        ax.set_title(f"test accuracy, {k} (lenient parse, 95% CI)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_classes(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Accuracy per class (position: first/middle/last; count: true count 0/1/2/3+), base vs tuned."""
    tasks = [t for t in CLASSES if t in details]
    fig, axes = plt.subplots(len(tasks), len(settings), figsize=(5.5 * len(settings), 3.4 * len(tasks)),
                             squeeze=False)  # fmt: skip
    for row, task in enumerate(tasks):
        for col, k in enumerate(settings):
            ax, by_class = axes[row][col], details[task][k]["by_class"]
            for j, model in enumerate(MODELS):
                acc = [by_class[c][model] for c in CLASSES[task]]
                xs = [i + (j - 0.5) * 0.38 for i in range(len(acc))]
                ax.bar(xs, [a["accuracy"] for a in acc], width=0.38, yerr=error_bars(acc), capsize=3, label=model,
                       color=COLORS[model])  # fmt: skip
            ax.set_xticks(range(len(CLASSES[task])), [f"{task}: {c}" for c in CLASSES[task]], fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_title(f"{task} by {'position asked' if task == 'position' else 'true count'}, {k}")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_breakdowns(rows: dict[tuple[str, str], list[dict]], settings: list[str], out_dir: Path, dpi: int = 110
                    ) -> list[Path]:  # fmt: skip
    """One figure per breakdown (word length, position, true count, ...): base vs tuned, one panel per setting."""
    paths = []
    for key in BREAKDOWNS:
        fig, axes = plt.subplots(1, len(settings), figsize=(6 * len(settings), 3.6), squeeze=False)
        for ax, k in zip(axes[0], settings):
            for model in MODELS:
                data = breakdown(rows[(model, k)], key)
                ax.plot(list(data), list(data.values()), "o-", color=COLORS[model], label=model)
            ax.set_ylim(0, 1)
            ax.set_title(f"accuracy by {key.replace('_', ' ')}, {k}")
            ax.legend()
        fig.tight_layout()
        path = out_dir / f"by_{key}.png"
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_templates(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Prompt sensitivity: accuracy per question template, base vs tuned, per task and setting."""
    tasks = [t for t in CLASSES if t in details]
    fig, axes = plt.subplots(len(tasks), len(settings), figsize=(5.5 * len(settings), 3.6 * len(tasks)),
                             squeeze=False)  # fmt: skip
    for row, task in enumerate(tasks):
        for col, k in enumerate(settings):
            ax, by_template = axes[row][col], details[task][k]["by_template"]
            names = list(by_template)
            for j, model in enumerate(MODELS):
                acc = [by_template[t][model] for t in names]
                xs = [i + (j - 0.5) * 0.38 for i in range(len(acc))]
                ax.bar(xs, [a["accuracy"] for a in acc], width=0.38, yerr=error_bars(acc), capsize=3, label=model,
                       color=COLORS[model])  # fmt: skip
            short = [n.removeprefix(f"{task}.").removesuffix(".spell_first") for n in names]
            ax.set_xticks(range(len(names)), short, fontsize=7, rotation=30)
            ax.set_ylim(0, 1)
            ax.set_title(f"{task} by question template, {k}")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_confusion(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Count confusion matrices (true count x answered count), base and tuned, per setting: share of each row."""
    cells = [(k, m) for k in settings if k in details.get("count", {}) for m in MODELS]
    fig, axes = plt.subplots(1, len(cells), figsize=(3.3 * len(cells), 3.4), squeeze=False)
    for ax, (k, model) in zip(axes[0], cells):
        table = details["count"][k]["confusion"][model]
        grid = [[table[t][a] / max(1, sum(table[t].values())) for a in ANSWERED] for t in COUNT_CLASSES]
        ax.imshow(grid, vmin=0, vmax=1, cmap="Blues")
        for i, t in enumerate(COUNT_CLASSES):
            for j, a in enumerate(ANSWERED):
                ax.text(j, i, table[t][a], ha="center", va="center", fontsize=7,
                        color="white" if grid[i][j] > 0.5 else "black")  # fmt: skip
        ax.set_xticks(range(len(ANSWERED)), ANSWERED, fontsize=8)
        ax.set_yticks(range(len(COUNT_CLASSES)), COUNT_CLASSES, fontsize=8)
        ax.set_xlabel("answered count")
        ax.set_ylabel("true count")
        ax.set_title(f"{model}, {k}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
