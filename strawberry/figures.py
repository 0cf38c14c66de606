"""Figure helpers every plot shares: the headless backend, grouped bars with 95% intervals, and saving."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: stages and scripts run without a display
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["error_bars", "grouped_bars", "plt", "save"]


def error_bars(cells: list[dict]) -> list[list[float]]:
    """Distances from each accuracy to its interval's ends, never negative (matplotlib refuses those)."""
    return [
        [max(0.0, c["accuracy"] - c["ci_low"]) for c in cells],
        [max(0.0, c["ci_high"] - c["accuracy"]) for c in cells],
    ]


def grouped_bars(ax, series: dict[str, list[dict]], colors: dict[str, str], capsize: int, width: float = 0.38
                 ) -> None:  # fmt: skip
    """Bars of accuracy cells (accuracy, ci_low, ci_high) with their 95% intervals: one group per x position, one
    bar per series in each group (e.g. base and tuned side by side)."""
    for j, (name, cells) in enumerate(series.items()):
        xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(cells))]
        ax.bar(xs, [c["accuracy"] for c in cells], width=width, yerr=error_bars(cells), capsize=capsize, label=name,
               color=colors[name])  # fmt: skip


def save(fig, path: Path, dpi: int = 110) -> None:
    """Lay out, write (creating the folder) and close a figure."""
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
