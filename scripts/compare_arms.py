"""Arms and seeds side by side: base, spelling-tuned, format-control-tuned. Reads `dvc exp show --json`.

    .venv/bin/python -m scripts.compare_arms [--rev COMMIT] [--json FILE]

For each task (position, count, length) and shot count: accuracy (lenient) with its Wilson 95% interval,
strict accuracy and format rate; runs that differ only in `train.seed` are averaged (mean, spread, n).
Then the spelling-minus-control difference per task and shot count, with an exact McNemar test on the same
test questions (per-question outcomes read from each run's eval/predictions.jsonl through dvc.api).
"""

import argparse
import json
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from scripts.transfer_analysis import runs
from strawberry.stats import mcnemar_exact

TASKS = ("position", "count", "length")


def shot_counts(metrics: dict) -> list[int]:
    return sorted({int(k.split(".")[2].removesuffix("shot")) for k in metrics if k.startswith("test.position.")
                   and k.split(".")[2].endswith("shot")})  # fmt: skip


def cell(values: list[dict]) -> str:
    acc = [v["accuracy"] for v in values]
    if len(values) == 1:
        v = values[0]
        return (f"{v['accuracy']:.2f} [{v['ci_low']:.2f}, {v['ci_high']:.2f}] strict {v['strict_accuracy']:.2f} "
                f"fmt {v['format_rate']:.2f}")  # fmt: skip
    return (f"{statistics.mean(acc):.2f} ± {statistics.pstdev(acc):.2f} (n={len(acc)}) strict "
            f"{statistics.mean(v['strict_accuracy'] for v in values):.2f} "
            f"fmt {statistics.mean(v['format_rate'] for v in values):.2f}")  # fmt: skip


def arm_metrics(run: dict, task: str, k: int, arm: str) -> dict:
    m = run["metrics"]
    prefix = f"test.{task}.{k}shot.{arm}."
    return {key: m[prefix + key] for key in ("accuracy", "ci_low", "ci_high", "strict_accuracy", "format_rate")}


def outcomes(rev: str) -> dict[tuple, bool]:
    """(task, shots, question) -> tuned correct, from one run's predictions."""
    import dvc.api

    with dvc.api.open("eval/predictions.jsonl", rev=rev) as f:
        rows = [json.loads(line) for line in f]
    return {(r["meta"]["task"], r["shots"], r["question"]): r["correct"] for r in rows
            if r["set"] == "test" and r["model"] == "tuned"}  # fmt: skip


def report(all_runs: list[dict], paired: dict[str, dict] | None) -> str:
    by_arm = defaultdict(list)
    for r in all_runs:
        by_arm[r["params"].get("train.arm", "spelling")].append(r)
    shots = shot_counts(all_runs[0]["metrics"])
    arms = [a for a in ("spelling", "format_control") if a in by_arm]
    lines = ["# Arms side by side (test set, lenient accuracy [Wilson 95%], strict, format rate)", ""]
    lines += ["| task | shots | base | " + " | ".join(f"tuned: {a}" for a in arms) + " |",
              "|---|---|---|" + "---|" * len(arms)]  # fmt: skip
    for task in TASKS:
        for k in shots:
            base = cell([arm_metrics(r, task, k, "base") for r in by_arm[arms[0]][:1]])
            tuned = [cell([arm_metrics(r, task, k, "tuned") for r in by_arm[a]]) for a in arms]
            lines.append(f"| {task} | {k} | {base} | " + " | ".join(tuned) + " |")
    lines += ["", "Runs: " + "; ".join(f"{a}: {', '.join(r['name'] for r in by_arm[a])}" for a in arms)]
    if paired:
        s, c = paired["spelling"], paired["format_control"]
        lines += [
            "",
            "## Spelling minus format control (paired, same questions)",
            "",
            "| task | shots | spelling | control | difference | McNemar p |",
            "|---|---|---|---|---|---|",
        ]
        for task in TASKS:
            for k in shots:
                keys = sorted(q for q in s if q[0] == task and q[1] == k and q in c)
                if not keys:
                    continue
                a, b = [s[q] for q in keys], [c[q] for q in keys]
                diff = (sum(a) - sum(b)) / len(keys)
                lines.append(f"| {task} | {k} | {sum(a) / len(keys):.2f} | {sum(b) / len(keys):.2f} | {diff:+.2f} | "
                             f"{mcnemar_exact(b, a):.3g} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def pair(all_runs: list[dict]) -> tuple[dict, dict] | None:
    """A spelling run and a control run with the same seed (else the first of each)."""
    spelling = [r for r in all_runs if r["params"].get("train.arm", "spelling") == "spelling"]
    control = [r for r in all_runs if r["params"].get("train.arm") == "format_control"]
    if not spelling or not control:
        return None
    for s in spelling:
        for c in control:
            if s["params"].get("train.seed") == c["params"].get("train.seed"):
                return s, c
    return spelling[0], control[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="read this `dvc exp show --json` output instead of running it")
    parser.add_argument("--rev", help="the commit whose experiments to compare (default: HEAD)")
    args = parser.parse_args(argv)
    command = ["dvc", "exp", "show", "--json"] + (["--rev", args.rev] if args.rev else [])
    if args.json:
        text = args.json.read_text()
    else:
        text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    all_runs = runs(json.loads(text))
    if not all_runs:
        sys.exit("no run with metrics/eval.json found in `dvc exp show --json`")
    both = pair(all_runs)
    paired = None
    if both:
        paired = {"spelling": outcomes(both[0]["rev"]), "format_control": outcomes(both[1]["rev"])}
    print(report(all_runs, paired))


if __name__ == "__main__":
    main()
