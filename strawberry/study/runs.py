"""The study's runs: the rows `dvc exp show --json` lists, the export of a finished run to a committed file
(metrics/study/<cell name>.json, the name carrying the grid and the profile), and the exports of one grid and
profile."""

import json
from pathlib import Path

from strawberry.answer_modes import worked_spelling
from strawberry.dvc_cli import dvc_run
from strawberry.jsonl import write_atomic
from strawberry.study import EXPORTS
from strawberry.study.gate import BASE_SETTING, shortcut_levels
from strawberry.study.resolved import flatten, resolved_settings
from strawberry.tasks import HEADLINE_TASKS, is_hard


def metric_key(task: str, setting: str, field: str) -> str:
    """A headline metric as `dvc exp show` flattens metrics/eval.json: "position.spell_first_3shot.tuned_hard"."""
    return f"{task}.{setting}.{field}"


def runs(exp_show: list) -> list[dict]:
    """Every workspace/commit/experiment row of `dvc exp show --json` that has evaluation metrics."""
    found = []

    def visit(node: dict, name: str | None) -> None:
        data = node.get("data") or {}
        metrics = (data.get("metrics") or {}).get("metrics/eval.json", {}).get("data")
        params = (data.get("params") or {}).get("params.yaml", {}).get("data")
        # The workspace repeats a commit or an exp; an experiment still running, or killed mid-run (a session
        # that ended), shows the workspace's rev and metrics too: neither is a finished run.
        if metrics and params and "workspace" not in (node.get("rev"), data.get("rev")):
            found.append({"name": node.get("name") or name or data.get("rev", "?")[:7], "rev": data.get("rev"),
                          "params": flatten(params), "metrics": flatten(metrics)})  # fmt: skip
        for exp in node.get("experiments") or []:
            for rev in exp.get("revs") or []:
                visit(rev, exp.get("name"))

    for node in exp_show:
        visit(node, node.get("name"))
    return found


def exp_show_runs() -> list[dict]:
    """Every run `dvc exp show` knows, on any commit (-A): a study outlives the commit its first runs started on."""
    shown = dvc_run("exp", "show", "--json", "-A", capture_output=True, text=True, check=True).stdout
    return runs(json.loads(shown))


def exported(name: str) -> Path:
    return EXPORTS / f"{name}.json"


def grid_of(name: str) -> str:
    """The grid's name in a cell's experiment name, "grid-v3arms-qwen25-coder-05b-seed1-..." -> "v3arms"."""
    return name.removeprefix("grid-").split("-", 1)[0]


ASKED = ("letter", "length", "position", "position_category")  # the meta a letter-only rule reads
AVERAGED = ("correct", "strict", "answered")  # per question: the mean over its samples (one reply when greedy)


def outcomes(rows: list[dict], set_name: str = "test") -> dict[str, dict[str, list]]:
    """setting -> columns over the test questions in asked order (greedy, or each question's sampled mean): task,
    word, hard, expected, asked (what a letter-only rule sees: count's letter; position's word length, position and
    its class), correct (lenient), strict, answered (a reply with an answer: the format rate), spelled (a worked
    reply spelled the word right; None in other modes), answer (the first reply's lenient answer, None when it gave
    none: what a shortcut would show; exports made before it, such as study v3's seed-1 arms, lack it), reply (the
    first reply's text), pieces (the word's token_split); exports before study v4 lack the last two. The same
    questions in the same order in every run of a profile."""
    sampled = any(r.get("decoding") == "sampled" for r in rows)
    groups: dict[str, dict[str, list]] = {}
    for r in rows:
        if r["set"] != set_name or r.get("decoding", "greedy") != ("sampled" if sampled else "greedy"):
            continue
        if r["meta"]["task"] not in HEADLINE_TASKS:
            continue
        cols = groups.setdefault(r["setting"], {k: [] for k in ("task", "word", "hard", "expected", "asked",
                                                                *AVERAGED, "spelled", "answer", "reply",
                                                                "pieces")})  # fmt: skip
        if r.get("sample", 0) == 0:
            cols["task"].append(r["meta"]["task"])
            cols["word"].append(r["meta"]["word"])
            cols["expected"].append(r["expected"])
            cols["answer"].append(r["lenient"])
            cols["reply"].append(r["reply"])  # the text, so a reply can be scored piece by piece after the fact
            cols["pieces"].append(r["meta"].get("token_split"))  # study v4's groups go by the asked letter's piece
            cols["asked"].append({k: r["meta"].get(k) for k in ASKED})
            cols["hard"].append(bool(is_hard(r["meta"]["task"], r["meta"], r["expected"])))
            cols["spelled"].append([] if r.get("mode") == "worked" else None)
            for k in AVERAGED:
                cols[k].append([])
        cols["correct"][-1].append(r["correct"])
        cols["strict"][-1].append(r["correct_strict"])
        cols["answered"][-1].append(r["lenient"] is not None)
        if cols["spelled"][-1] is not None:
            cols["spelled"][-1].append(worked_spelling(r["reply"]) == r["meta"]["word"].lower())
    for cols in groups.values():
        for k in AVERAGED:
            cols[k] = [sum(v) / len(v) for v in cols[k]]
        cols["spelled"] = [None if v is None else sum(v) / len(v) for v in cols["spelled"]]
    return groups


def load_val_curve(run: dict) -> dict[str, list]:
    """The run's val evaluations (metrics/val_curve.json: one row per evaluation; runs before 2026-12-04 wrote one
    list per column). Runs made before train wrote that file have dvclive's eval/val_accuracy.tsv, whose step
    column counts log calls: their evaluations were every train.eval_steps."""
    from dvc.exceptions import PathMissingError

    try:
        curve = json.loads(load_rev("metrics/val_curve.json", run["rev"]))
        return curve if isinstance(curve, dict) else {k: [row[k] for row in curve] for k in ("step", "val_accuracy")}
    except PathMissingError:
        tsv = load_rev("dvclive/train/plots/metrics/eval/val_accuracy.tsv", run["rev"]).strip().splitlines()
        values = [float(line.split("\t")[-1]) for line in tsv[1:]]
        every = run["params"]["train.eval_steps"]
        return {"step": [every * (i + 1) for i in range(len(values))], "val_accuracy": values}


def load_rev(path: str, rev: str) -> str:
    import dvc.api

    with dvc.api.open(path, rev=rev) as f:
        return f.read()


V3_GRIDS = ("v3cal", "v3arms")  # ran before data/generated/piece_coverage.json existed


def export_run(name: str, wall_s: float | None = None) -> Path:
    """One finished experiment, as `dvc exp show` and its outputs give it, in a file that git keeps: its grid and
    profile, the settings it resolved (strawberry.study.resolved), params, headline, test details, the val curve and
    every test question's outcome (tuned, base, and each snapshot; the unseen wordings' too, when asked), the
    precision it ran in and the machine's bf16 path, and the run's wall time when the caller measured it."""
    run = next(r for r in exp_show_runs() if r["name"] == name)
    rows = [json.loads(line) for line in load_rev("eval/predictions.jsonl", run["rev"]).splitlines()]
    details = json.loads(load_rev("metrics/eval_details.json", run["rev"]))
    curve = load_val_curve(run)
    snapshot_rows = [json.loads(line) for line in load_rev("eval/snapshot_predictions.jsonl", run["rev"]).splitlines()]
    trained = json.loads(load_rev("metrics/train.json", run["rev"]))
    p = run["params"]
    resolved = resolved_settings(p) | {"precision": trained.get("precision")}
    record = {
        "name": name, "grid": grid_of(name), "rev": run["rev"], "profile": p["model"], "arm": p["train.arm"],
        "seed": p["train.seed"], "steps": resolved["steps"], "params": p, "resolved": resolved,
        "metrics": run["metrics"], "settings": details["settings"],
        "details": details["test"],
        "val_curve": [[step, acc] for step, acc in zip(curve["step"], curve["val_accuracy"])],
        "tuned": outcomes([r for r in rows if r["model"] == "tuned"]),
        "base": outcomes([r for r in rows if r["model"] == "base"]),
        "wall_s": wall_s,
        # what `precision: auto` became on the machine that ran it: bf16 autocast or fp32 (not the same arithmetic)
        "precision": trained.get("precision"), "cpu_bf16": trained.get("versions", {}).get("cpu_bf16"),
        "unseen": {m: outcomes([r for r in rows if r["model"] == m], "unseen") for m in ("base", "tuned")},
        "snapshots": {str(step): {"headline": s["headline"],
                                  "tuned": outcomes([r for r in snapshot_rows if r["step"] == int(step)])}
                      for step, s in details.get("snapshots", {}).items()},
    }  # fmt: skip
    if BASE_SETTING in record["base"]:  # a worked-mode run (study v3): its deciding measures' shortcut levels
        val = [json.loads(line) for line in load_rev("data/splits/val.jsonl", run["rev"]).splitlines()]
        record["shortcut_levels"] = shortcut_levels(record, val)
        pieces = json.loads(load_rev("data/generated/coverage_words.json", run["rev"]))["pieces"]
        record["covered_share"] = covered_shares([r for r in rows if r["set"] == "test"], set(pieces))
        if record["grid"] not in V3_GRIDS:  # study v4 on: the covered pieces, so the page needs no data
            record["piece_coverage"] = json.loads(load_rev("data/generated/piece_coverage.json", run["rev"]))
    EXPORTS.mkdir(parents=True, exist_ok=True)
    write_atomic(exported(name), json.dumps(record, sort_keys=True) + "\n")
    return exported(name)


def covered_shares(rows: list[dict], pieces: set[str]) -> dict[str, float | None]:
    """word -> the share of its pieces of two letters or more that the coverage set spells (None: no such piece):
    the within-model contrast of study v3 goes by it, as the uncovered half's pieces are often spelled too."""
    shares = {}
    for r in rows:
        long = [p for p in r["meta"]["token_split"] if len(p) > 1]
        shares[r["meta"]["word"]] = sum(p in pieces for p in long) / len(long) if long else None
    return shares


def exports_of(grid: str, profile: str) -> list[dict]:
    """The exports of one grid (its `name:`) and profile in metrics/study/, by file name: another profile's runs
    of the same grid are never among them."""
    found = [json.loads(p.read_text()) for p in sorted(EXPORTS.glob(f"grid-{grid}-{profile}-*.json"))]
    return [e for e in found if e.get("grid") == grid and e.get("profile") == profile]
