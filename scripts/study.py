"""The study: arms x seeds + a dose-response run as DVC experiments, then the page that aggregates them.

    .venv/bin/python -m scripts.study run [--model qwen25-coder-05b] [--seeds 1 2 3] [--dose 4]
    .venv/bin/python -m scripts.study report [--out docs/study.md] [--model qwen25-coder-05b]

`run` starts one `dvc exp run --temp` per planned run (strawberry.study.plan) and exports each finished run to
metrics/study/<name>.json: commit those files, they are the study's record. A run already exported is skipped, so a
study cut off by the end of a session resumes where it stopped (the run that was going is run again). The base
model's answers come from evaluate_base once; every run reuses them.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from strawberry.jsonl import write_atomic
from strawberry.params import load_params
from strawberry.study import DOSE_FACTOR, exp_show_runs, export, exported, load_exports, plan, report


def run_study(args: argparse.Namespace) -> None:
    params = load_params()
    todo = plan(args.model or params["model"], args.seeds, args.dose, params["train"]["max_steps"])
    for i, (name, overrides) in enumerate(todo, 1):
        if exported(name).is_file():
            print(f"[{i}/{len(todo)}] {name}: already exported to {exported(name)}, skipped", flush=True)
            continue
        print(f"[{i}/{len(todo)}] {name}: dvc exp run --temp {' '.join('-S ' + o for o in overrides)}", flush=True)
        if name not in {r["name"] for r in exp_show_runs()}:
            command = ["dvc", "exp", "run", "--temp", "-n", name] + [a for o in overrides for a in ("-S", o)]
            if subprocess.run(command).returncode != 0:
                sys.exit(f"{name} failed; the experiments before it are kept (rerun to resume)")
        print(f"[{i}/{len(todo)}] {name}: exported to {export(name)} (commit it)", flush=True)


def report_study(args: argparse.Namespace) -> None:
    params = load_params()
    exports = load_exports(args.model)  # every profile's, unless --model: report refuses a mix
    if not exports:
        sys.exit(f"no study exports{f' of profile {args.model}' if args.model else ''} in metrics/study/: "
                 "run `python -m scripts.study run`")  # fmt: skip
    write_atomic(args.out, report(exports, args.out.parent / "study" / "hard.png", params["train"]["max_steps"],
                                  args.seeds, args.dose))  # fmt: skip
    print(f"wrote {args.out} ({len(exports)} runs)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run the planned experiments (skips those already exported)"),
                       ("report", "aggregate the exports into a page")):  # fmt: skip
        p = sub.add_parser(name, help=text)
        p.add_argument("--model", help="profile (run: default params.yaml's model; report: the exports' profile)")
        p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
        p.add_argument("--dose", type=int, default=DOSE_FACTOR, help="dose-response run at this many times the steps "
                       "(0: none)")  # fmt: skip
    sub.choices["report"].add_argument("--out", type=Path, default=Path("docs/study.md"))
    args = parser.parse_args(argv)
    run_study(args) if args.command == "run" else report_study(args)


if __name__ == "__main__":
    main()
