"""evaluate's report: the headline (metrics/eval.json, the only numbers `dvc exp show` lists), the details beside
it (metrics/eval_details.json: intervals, strategies, per-class and hard-question accuracy) and breakdown plots."""

from pathlib import Path

from strawberry.figures import grouped_bars, plt, save
from strawberry.scoring import BREAKDOWNS, accuracy, breakdown, compare
from strawberry.tasks import (
    CLASSES,
    EVAL_TASKS,
    HEADLINE_TASKS,
    confusion,
    count,
    is_hard,
    question_class,
    shortcut_level,
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
                 greedy: dict[tuple[str, str], list[dict]] | None = None, fit_on: list[dict] = ()) -> dict:  # fmt: skip
    """Per task: the strategy baselines (constant answers; letter-only rules fitted on `fit_on`, the val
    questions), then per setting (answer mode and shots, e.g. "0shot",
    "spell_first_3shot") base and tuned accuracy (interval, strict beside lenient, format rate), tuned minus base
    (McNemar), tuned minus the best strategy, accuracy on the hard questions (those no constant strategy gets
    right), per class (first/middle/last; true count 0/1/2/3+), per question template, and for count the confusion
    of true and answered count. `rows[(model, setting)]` holds scored replies in question order; `greedy` the same
    for greedy decoding when the headline is sampled."""
    out = {}
    for task in EVAL_TASKS:
        task_questions = of_task(questions, task)
        if not task_questions:
            continue
        # constant answers, and letter-only rules fitted on `fit_on` (val): the best of them is the shortcut level
        level = shortcut_level(task, of_task(list(fit_on), task), task_questions)
        strategy, best = level["strategies"], level["best"]
        entry: dict = {"n": len(task_questions), "strategies": strategy,
                       "strategy_baseline": {"name": best, "accuracy": level["accuracy"]}}  # fmt: skip
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
            if confusion(task, []) is not None:
                cell["confusion"] = {m: confusion(task, pick[m]) for m in MODELS}
            if greedy:
                cell["greedy"] = {m: accuracy(of_task(greedy[(m, setting)], task)) for m in MODELS}
            entry[setting] = cell
        out[task] = entry
    return out


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


def plot_headline(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Accuracy per task, base vs tuned, per setting, with 95% intervals and the best constant strategy."""
    fig, axes = plt.subplots(1, len(settings), figsize=(6 * len(settings), 4), squeeze=False)
    for ax, k in zip(axes[0], settings):
        tasks = [t for t in details if k in details[t]]
        grouped_bars(ax, {m: [details[t][k][m] for t in tasks] for m in MODELS}, COLORS, capsize=4)
        for i, t in enumerate(tasks):
            ax.hlines(details[t]["strategy_baseline"]["accuracy"], i - 0.4, i + 0.4, colors="k", linestyles="dashed",
                      label="best constant strategy" if i == 0 else None)  # fmt: skip
        ax.set_xticks(range(len(tasks)), tasks)
        ax.set_ylim(0, 1)
        ax.set_title(f"test accuracy, {k} (lenient parse, 95% CI)")
        ax.legend()
    save(fig, path, dpi)


def _task_grid(details: dict, settings: list[str], path: Path, dpi: int, height: float, draw) -> None:
    """One panel per task (rows) and setting (columns), each drawn by draw(ax, task, setting)."""
    tasks = [t for t in CLASSES if t in details]
    fig, axes = plt.subplots(len(tasks), len(settings), figsize=(5.5 * len(settings), height * len(tasks)),
                             squeeze=False)  # fmt: skip
    for row, task in enumerate(tasks):
        for col, k in enumerate(settings):
            draw(axes[row][col], task, k)
            axes[row][col].set_ylim(0, 1)
            axes[row][col].legend(fontsize=8)
    save(fig, path, dpi)


def plot_classes(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Accuracy per class (position: first/middle/last; count: true count 0/1/2/3+), base vs tuned."""

    def draw(ax, task: str, k: str) -> None:
        by_class = details[task][k]["by_class"]
        grouped_bars(ax, {m: [by_class[c][m] for c in CLASSES[task]] for m in MODELS}, COLORS, capsize=3)
        ax.set_xticks(range(len(CLASSES[task])), [f"{task}: {c}" for c in CLASSES[task]], fontsize=8)
        ax.set_title(f"{task} by {'position asked' if task == 'position' else 'true count'}, {k}")

    _task_grid(details, settings, path, dpi, 3.4, draw)


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
        path = out_dir / f"by_{key}.png"
        save(fig, path, dpi)
        paths.append(path)
    return paths


def plot_templates(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Prompt sensitivity: accuracy per question template, base vs tuned, per task and setting."""

    def draw(ax, task: str, k: str) -> None:
        by_template = details[task][k]["by_template"]
        names = list(by_template)
        grouped_bars(ax, {m: [by_template[t][m] for t in names] for m in MODELS}, COLORS, capsize=3)
        short = [n.removeprefix(f"{task}.").removesuffix(".spell_first").removesuffix(".worked") for n in names]
        ax.set_xticks(range(len(names)), short, fontsize=7, rotation=30)
        ax.set_title(f"{task} by question template, {k}")

    _task_grid(details, settings, path, dpi, 3.6, draw)


def plot_confusion(details: dict, settings: list[str], path: Path, dpi: int = 110) -> None:
    """Count confusion matrices (true count x answered count), base and tuned, per setting: share of each row."""
    cells = [(k, m) for k in settings if k in details.get("count", {}) for m in MODELS]
    fig, axes = plt.subplots(1, len(cells), figsize=(3.3 * len(cells), 3.4), squeeze=False)
    for ax, (k, model) in zip(axes[0], cells):
        table = details["count"][k]["confusion"][model]
        grid = [[table[t][a] / max(1, sum(table[t].values())) for a in count.ANSWERED] for t in count.CLASSES]
        ax.imshow(grid, vmin=0, vmax=1, cmap="Blues")
        for i, t in enumerate(count.CLASSES):
            for j, a in enumerate(count.ANSWERED):
                ax.text(j, i, table[t][a], ha="center", va="center", fontsize=7,
                        color="white" if grid[i][j] > 0.5 else "black")  # fmt: skip
        ax.set_xticks(range(len(count.ANSWERED)), count.ANSWERED, fontsize=8)
        ax.set_yticks(range(len(count.CLASSES)), count.CLASSES, fontsize=8)
        ax.set_xlabel("answered count")
        ax.set_ylabel("true count")
        ax.set_title(f"{model}, {k}", fontsize=9)
    save(fig, path, dpi)
