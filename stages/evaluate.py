"""Stage evaluate: the tuned model on the same questions as the base model (whose answers evaluate_base computed
once), zero-shot and k-shot: the headline in metrics/eval.json, the rest in metrics/eval_details.json, plots."""

# First: imports Unsloth when the profile uses it, before transformers/TRL/PEFT (it patches them only then).
import strawberry.unsloth_first  # noqa: F401, I001

# isort: split

import json
from pathlib import Path

from strawberry.eval_report import (
    headline,
    plot_breakdowns,
    plot_classes,
    plot_confusion,
    plot_headline,
    plot_templates,
    task_details,
)
from strawberry.evaluation import BASE_PREDICTIONS, VAL, answer_all, group, setting_key, settings
from strawberry.jsonl import read_jsonl, write_json, write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.precision import autocast
from strawberry.preflight import check_tokenizer, software_versions
from strawberry.profiles import load_model, load_profile, run_precision, stage_settings
from strawberry.prompts import chat_template_kwargs

ADAPTER_DIR = "models/adapter"
SNAPSHOTS = Path("models/snapshots")  # train's adapters at train.snapshot_steps
SNAPSHOT_PREDICTIONS = "eval/snapshot_predictions.jsonl"
PLOTS = Path("plots/eval")


def check_same_questions(base: list[dict], tuned: list[dict]) -> None:
    """The base answers must be to exactly the questions just asked of the tuned model."""
    key = ("set", "setting", "draw", "decoding", "sample", "question", "precision")
    if [tuple(r.get(k) for k in key) for r in base] != [tuple(r.get(k) for k in key) for r in tuned]:
        raise ValueError(f"{BASE_PREDICTIONS} answers other questions (or at another precision) than "
                         "evaluate asks (stale or edited): "
                         "run `dvc repro evaluate_base`")  # fmt: skip


def chosen_settings(cfg: dict, param: str, keys: list[str]) -> list[str]:
    """The settings evaluate.<param> names (null: every one of `keys`); refuses a name that is not among them."""
    if not cfg.get(param):
        return keys
    if unknown := set(cfg[param]) - set(keys):
        raise ValueError(f"params.yaml evaluate.{param}: {sorted(unknown)} not among the settings evaluated "
                         f"({', '.join(keys)})")  # fmt: skip
    return [k for k in keys if k in cfg[param]]


def evaluate_snapshots(profile, precision: str, cfg: dict, groups: dict, keys: list[str], val: list[dict]) -> dict:
    """The adapters train kept at fixed steps (train.snapshot_steps; none by default), each on the test questions:
    step -> its headline and test details, and every reply in eval/snapshot_predictions.jsonl."""
    steps = json.loads((SNAPSHOTS / "index.json").read_text())["steps"] if (SNAPSHOTS / "index.json").is_file() else []
    keys = chosen_settings(cfg, "snapshot_settings", keys)  # the settings a dose curve needs (long worked replies)
    out, replies = {}, []
    for step in steps:
        model, tokenizer = load_model(profile, adapter=str(SNAPSHOTS / f"step-{step}"), merge=True)
        with autocast(precision):
            rows = answer_all(model, tokenizer, profile, chat_template_kwargs(tokenizer, profile.chat_template_kwargs),
                              {**cfg, "extra": {}}, f"step-{step}", keys)  # fmt: skip
        decoding = "sampled" if any(r["decoding"] == "sampled" for r in rows) else "greedy"
        by_key = {("base", k): groups[("test", "base", k, decoding)] for k in keys}
        by_key |= {("tuned", k): [r for r in rows if r["setting"] == k and r["decoding"] == decoding] for k in keys}
        questions = [{"meta": r["meta"], "output": r["expected"]} for r in by_key[("tuned", keys[0])]
                     if r.get("sample", 0) == 0]  # fmt: skip
        test = task_details(by_key, questions, keys, fit_on=val)
        out[str(step)] = {"headline": headline(test, keys), "test": test}
        replies += [{**r, "step": step} for r in rows]
    write_jsonl(SNAPSHOT_PREDICTIONS, replies)
    return out


def main() -> None:
    log = get_logger("evaluate")
    params = load_params()
    profile = load_profile(params)
    precision = run_precision(profile)
    cfg = stage_settings(params, profile, "evaluate")
    base = read_jsonl(BASE_PREDICTIONS)
    val = read_jsonl(VAL)  # the letter-only baselines are fitted on val
    # the settings the tuned model is asked in (evaluate.tuned_settings; null: all): base answers every setting once,
    # and a study skips the tuned model's settings that decide nothing (a worked 3-shot pass is about 15 minutes)
    keys = chosen_settings(cfg, "tuned_settings", [setting_key(mode, k) for mode, k in settings(cfg)])
    model, tokenizer = load_model(profile, adapter=ADAPTER_DIR, merge=True)
    check_tokenizer(profile, tokenizer)
    with autocast(precision):
        tuned = answer_all(model, tokenizer, profile, chat_template_kwargs(tokenizer, profile.chat_template_kwargs),
                           cfg, "tuned", keys)  # fmt: skip
    tuned = [{**r, "precision": precision} for r in tuned]
    check_same_questions([r for r in base if r["setting"] in keys], tuned)

    groups = group(base + tuned)
    details: dict = {"profile": profile.name, "decoding": profile.generation, "precision": precision,
                     "versions": software_versions(), "settings": keys,
                     "shot_draws": cfg.get("shot_draws", 1)}  # fmt: skip
    PLOTS.mkdir(parents=True, exist_ok=True)
    for set_name in dict.fromkeys(r["set"] for r in tuned):
        decoding = "sampled" if (set_name, "tuned", keys[0], "sampled") in groups else "greedy"
        rows = {(m, k): groups[(set_name, m, k, decoding)] for m in ("base", "tuned") for k in keys}
        greedy = None
        if decoding == "sampled":
            greedy = {(m, k): groups[(set_name, m, k, "greedy")] for m in ("base", "tuned") for k in keys}
        questions = [r for r in rows[("tuned", keys[0])] if r.get("sample", 0) == 0]
        details[set_name] = task_details(rows, [{"meta": r["meta"], "output": r["expected"]} for r in questions],
                                         keys, greedy, fit_on=val)  # fmt: skip
        if set_name == "test":
            plot_headline(details[set_name], keys, PLOTS / "accuracy.png")
            plot_classes(details[set_name], keys, PLOTS / "by_class.png")
            plot_templates(details[set_name], keys, PLOTS / "by_template.png")
            plot_confusion(details[set_name], keys, PLOTS / "count_confusion.png")
            plot_breakdowns(rows, keys, PLOTS)
    details["snapshots"] = evaluate_snapshots(profile, precision, cfg, groups, keys, val)
    write_jsonl("eval/predictions.jsonl", base + tuned)
    write_json("metrics/eval_details.json", details)
    write_json("metrics/eval.json", {"profile": profile.name, **headline(details["test"], keys)})
    log.info("test headline:\n%s", json.dumps(headline(details["test"], keys), indent=1))


if __name__ == "__main__":
    main()
