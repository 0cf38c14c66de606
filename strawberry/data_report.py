"""analyze's core: data metrics (sizes, balance) and data plots. Describes data only; no model metric here."""

from collections import Counter
from pathlib import Path

from strawberry.figures import plt, save


def _sort_key(value: object) -> tuple:
    """Numbers in numeric order, then names alphabetically."""
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def counts(values: list) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(values).items(), key=lambda kv: _sort_key(kv[0]))}


def data_metrics(splits: dict[str, list[dict]]) -> dict:
    train, evals = splits["train"], splits["val"] + splits["test"]

    def of(records: list[dict], key: str, task: str | None = None) -> dict[str, int]:
        rows = [r for r in records if task is None or r["meta"]["task"] == task]
        return counts([r["output"] if key == "output" else r["meta"][key] for r in rows])

    return {
        "size": {name: len(records) for name, records in splits.items()},
        "eval_words": {name: len({r["meta"]["word"] for r in splits[name]}) for name in ("val", "test")},
        "train": {key: of(train, key) for key in ("length", "category", "style", "separator", "direction")},
        "eval": {
            "task": of(evals, "task"),
            "style": of(evals, "style"),
            "length": of(evals, "length"),
            "position_category": of(evals, "position_category", "position"),
            "true_count": of(evals, "output", "count"),
            "n_tokens": of(evals, "n_tokens"),
        },
    }


def _bars(ax, data: dict[str, int], title: str) -> None:
    ax.bar(list(data), list(data.values()), color="#c0392b")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45)


def plot_spelling_balance(metrics: dict, path: Path, dpi: int) -> None:
    keys = list(metrics["train"])
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 4))
    for ax, key in zip(axes, keys):
        _bars(ax, metrics["train"][key], f"train (spelling) by {'token length' if key == 'length' else key}")
    save(fig, path, dpi)


def plot_eval_questions(splits: dict[str, list[dict]], path: Path, dpi: int) -> None:
    panels = [("word length", "length", None), ("position asked", "position_category", "position"),
              ("true count", "output", "count"), ("tokens per word", "n_tokens", None)]  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(18, 4))
    for ax, (title, key, task) in zip(axes, panels):
        for name, color in (("val", "#2980b9"), ("test", "#c0392b")):
            rows = [r for r in splits[name] if task is None or r["meta"]["task"] == task]
            data = counts([r["output"] if key == "output" else r["meta"][key] for r in rows])
            ax.plot(list(data), list(data.values()), "o-", color=color, label=name)
        ax.set_title(f"eval questions by {title}")
        ax.legend()
    save(fig, path, dpi)
