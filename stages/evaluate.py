"""Stage evaluate: base vs tuned model on the same test questions, zero-shot and k-shot, position/count/length."""

import json
from contextlib import nullcontext
from pathlib import Path

from strawberry.eval_report import ARMS, plot_breakdowns, plot_headline, task_metrics
from strawberry.evaluation import ask, pick_shots, sample_per_task
from strawberry.jsonl import read_jsonl, write_json, write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.profiles import load_model, load_profile, require_device
from strawberry.prompts import chat_template_kwargs
from strawberry.templates import load_separators
from strawberry.validation import check_record, schema_errors

ADAPTER_DIR = "models/adapter"
PLOTS = Path("plots/eval")


def load_extra(name: str, path: str) -> list[dict]:
    """An extra Alpaca question file, checked like generated data (schema and answers)."""
    records = read_jsonl(path)
    joiners = {n: s.joiner for n, s in load_separators("data/templates").items()}
    for line, (record, error) in enumerate(zip(records, schema_errors(records)), start=1):
        problem = check_record(record, error, joiners, ("position", "count", "length"))
        if problem:
            raise ValueError(f"evaluate.extra.{name}: {path}:{line}: {problem}")
    return records


def main() -> None:
    log = get_logger("evaluate")
    params = load_params()
    profile = load_profile(params)
    require_device(profile)
    cfg = params["evaluate"]
    val = read_jsonl("data/splits/val.jsonl")
    question_sets = {"test": sample_per_task(read_jsonl("data/splits/test.jsonl"), cfg["questions_per_task"],
                                             cfg["seed"])}  # fmt: skip
    question_sets |= {name: load_extra(name, path) for name, path in cfg["extra"].items()}

    model, tokenizer = load_model(profile, adapter=ADAPTER_DIR)
    template_kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    metrics, predictions = {}, []
    PLOTS.mkdir(parents=True, exist_ok=True)
    for set_name, questions in question_sets.items():
        rows = {}
        for k in cfg["shots"]:
            shots = pick_shots(val, k, cfg["seed"])
            for arm in ARMS:
                desc = f"{set_name} {k}-shot {arm}"
                log.info("asking %d questions: %s", len(questions), desc)
                # base = the same weights with the LoRA update switched off
                with model.disable_adapter() if arm == "base" else nullcontext():
                    rows[(arm, k)] = ask(model, tokenizer, questions, shots, template_kwargs, profile.generation,
                                         cfg["batch_size"], cfg["seed"], desc)  # fmt: skip
                predictions += [{"set": set_name, "model": arm, "shots": k, **r} for r in rows[(arm, k)]]
        metrics[set_name] = task_metrics(rows, questions, cfg["shots"], cfg["seed"])
        if set_name == "test":
            plot_headline(metrics[set_name], cfg["shots"], PLOTS / "accuracy.png")
            plot_breakdowns(rows, cfg["shots"], PLOTS)
    metrics["profile"] = profile.name
    write_jsonl("eval/predictions.jsonl", predictions)
    write_json("metrics/eval.json", metrics)
    log.info("test metrics:\n%s", json.dumps(metrics["test"], indent=1)[:3000])


if __name__ == "__main__":
    main()
