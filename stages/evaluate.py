"""Stage evaluate: the tuned model on the same questions as the base model (whose answers evaluate_base computed
once), zero-shot and k-shot: the headline in metrics/eval.json, the rest in metrics/eval_details.json, plots."""

import json
from pathlib import Path

from strawberry.answering import BASE_PREDICTIONS, answer_all, group
from strawberry.eval_report import headline, plot_breakdowns, plot_classes, plot_headline, task_details
from strawberry.jsonl import read_jsonl, write_json, write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.precision import autocast
from strawberry.profiles import load_model, load_profile, run_precision
from strawberry.prompts import chat_template_kwargs

ADAPTER_DIR = "models/adapter"
PLOTS = Path("plots/eval")


def check_same_questions(base: list[dict], tuned: list[dict]) -> None:
    """The base answers must be to exactly the questions just asked of the tuned model."""
    key = ("set", "shots", "decoding", "sample", "question", "precision")
    if [tuple(r.get(k) for k in key) for r in base] != [tuple(r.get(k) for k in key) for r in tuned]:
        raise ValueError(f"{BASE_PREDICTIONS} answers other questions (or at another precision) than "
                         "evaluate asks (stale or edited): "
                         "run `dvc repro evaluate_base`")  # fmt: skip


def main() -> None:
    log = get_logger("evaluate")
    params = load_params()
    profile = load_profile(params)
    precision = run_precision(profile)
    cfg = params["evaluate"]
    base = read_jsonl(BASE_PREDICTIONS)
    model, tokenizer = load_model(profile, adapter=ADAPTER_DIR)
    with autocast(precision):
        tuned = answer_all(model, tokenizer, profile, chat_template_kwargs(tokenizer, profile.chat_template_kwargs),
                           cfg, "tuned")  # fmt: skip
    tuned = [{**r, "precision": precision} for r in tuned]
    check_same_questions(base, tuned)

    groups = group(base + tuned)
    details: dict = {"profile": profile.name, "decoding": profile.generation, "precision": precision}
    PLOTS.mkdir(parents=True, exist_ok=True)
    for set_name in dict.fromkeys(r["set"] for r in tuned):
        decoding = "sampled" if (set_name, "tuned", cfg["shots"][0], "sampled") in groups else "greedy"
        rows = {(m, k): groups[(set_name, m, k, decoding)] for m in ("base", "tuned") for k in cfg["shots"]}
        greedy = None
        if decoding == "sampled":
            greedy = {(m, k): groups[(set_name, m, k, "greedy")] for m in ("base", "tuned") for k in cfg["shots"]}
        questions = [r for r in rows[("tuned", cfg["shots"][0])] if r.get("sample", 0) == 0]
        details[set_name] = task_details(rows, [{"meta": r["meta"], "output": r["expected"]} for r in questions],
                                         cfg["shots"], greedy)  # fmt: skip
        if set_name == "test":
            plot_headline(details[set_name], cfg["shots"], PLOTS / "accuracy.png")
            plot_classes(details[set_name], cfg["shots"], PLOTS / "by_class.png")
            plot_breakdowns(rows, cfg["shots"], PLOTS)
    write_jsonl("eval/predictions.jsonl", base + tuned)
    write_json("metrics/eval_details.json", details)
    write_json("metrics/eval.json", {"profile": profile.name, **headline(details["test"], cfg["shots"])})
    log.info("test headline:\n%s", json.dumps(headline(details["test"], cfg["shots"]), indent=1))


if __name__ == "__main__":
    main()
