"""Which experiments transfer spelling to position/count accuracy? Reads `dvc exp show --json`.

    .venv/bin/python -m scripts.transfer_analysis [--shots K] [--plot plots/transfer.png] [--json FILE]

Ranks configurations by the mean of position and count gains (tuned minus base accuracy on the same test
questions), grouping runs that differ only in `train.seed` (mean, spread, n); prints the correlation of
position and count gains across runs, which parameters move transfer most, and draws a position-vs-count
scatter plot. Position and count only: spelling is never a metric.
"""

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from strawberry.dvc_cli import dvc_run
from strawberry.study.runs import metric_key, runs

SEED = "train.seed"


def gains(run: dict, shots: int) -> tuple[float, float, float, float]:
    """Tuned minus base on position and count, then the same on the hard questions (no constant strategy right)."""
    m = run["metrics"]
    setting = f"{shots}shot"

    def gain(task: str, suffix: str = "") -> float:
        return m[metric_key(task, setting, f"tuned{suffix}")] - m[metric_key(task, setting, f"base{suffix}")]

    return gain("position"), gain("count"), gain("position", "_hard"), gain("count", "_hard")


def pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return None
    return statistics.correlation(xs, ys)


def report(all_runs: list[dict], shots: int) -> tuple[str, list[tuple]]:
    varying = sorted(k for k in {k for r in all_runs for k in r["params"]}
                     if len({json.dumps(r["params"].get(k)) for r in all_runs}) > 1)  # fmt: skip
    config_keys = [k for k in varying if k != SEED]
    groups: dict[tuple, list] = defaultdict(list)
    for r in all_runs:
        groups[tuple((k, json.dumps(r["params"].get(k))) for k in config_keys)].append(r)

    rows = []
    for config, members in groups.items():
        g = [gains(r, shots) for r in members]
        transfer = [(p + c) / 2 for p, c, _, _ in g]
        rows.append((statistics.mean(transfer), statistics.pstdev(transfer), len(members),
                     statistics.mean(p for p, *_ in g), statistics.mean(c for _, c, *_ in g),
                     statistics.mean(ph for *_, ph, _ in g), statistics.mean(ch for *_, ch in g), config,
                     ", ".join(r["name"] for r in members)))  # fmt: skip
    rows.sort(key=lambda row: row[0], reverse=True)
    lines = [f"# Transfer of spelling tuning to position/count ({shots}-shot, {len(all_runs)} runs)", "",
             "| rank | configuration | transfer (mean of position and count gain) | spread | n seeds | "
             "position gain | count gain | hard-question gain (pos / count) | runs |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for i, (mean, sd, n, pos, cnt, pp, cp, config, names) in enumerate(rows, 1):
        label = ", ".join(f"{k}={json.loads(v)}" for k, v in config) or "(all alike)"
        lines.append(f"| {i} | {label} | {mean:+.3f} | {sd:.3f} | {n} | {pos:+.3f} | {cnt:+.3f} | "
                     f"{pp:+.3f} / {cp:+.3f} | {names} |")  # fmt: skip
    pos_all = [gains(r, shots)[0] for r in all_runs]
    cnt_all = [gains(r, shots)[1] for r in all_runs]
    r = pearson(pos_all, cnt_all)
    lines += [
        "",
        f"Correlation of position and count gains across runs: {'n/a (too few runs)' if r is None else f'{r:+.2f}'}",
    ]
    influence = []
    for key in config_keys:
        by_value = defaultdict(list)
        for row in rows:
            by_value[dict(row[7])[key]].append(row[0])
        means = [statistics.mean(v) for v in by_value.values()]
        influence.append((max(means) - min(means), key, len(by_value)))
    lines += ["", "Parameters by how much transfer moves across their values (max - min of group means):"]
    lines += [f"- {key}: {spread:.3f} over {n} values" for spread, key, n in sorted(influence, reverse=True)]
    return "\n".join(lines) + "\n", list(zip(pos_all, cnt_all, [x["name"] for x in all_runs]))


def scatter(points: list[tuple], path: Path, shots: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    for pos, cnt, name in points:
        ax.scatter(pos, cnt, color="#c0392b")
        ax.annotate(name, (pos, cnt), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"position gain, tuned - base ({shots}-shot)")
    ax.set_ylabel(f"count gain, tuned - base ({shots}-shot)")
    ax.set_title("transfer per experiment")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=Path("plots/transfer.png"))
    parser.add_argument("--json", type=Path, help="read this `dvc exp show --json` output instead of running it")
    args = parser.parse_args(argv)
    text = (
        args.json.read_text()
        if args.json
        else dvc_run("exp", "show", "--json", "--all-commits", capture_output=True, text=True, check=True).stdout
    )
    all_runs = runs(json.loads(text))
    if not all_runs:
        sys.exit("no run with metrics/eval.json found in `dvc exp show --json`")
    markdown, points = report(all_runs, args.shots)
    scatter(points, args.plot, args.shots)
    print(markdown + f"\nScatter plot: {args.plot}")


if __name__ == "__main__":
    main()
