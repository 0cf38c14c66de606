"""Stage replay: the base model's own worked replies to questions about other words (never val/test words nor their
siblings), for study v3's arm D (`train.arm=spelling_replay`): trained beside the coverage set, they keep the reply
format while the model learns to spell (self-distillation). `replay.records` 0 (the default): an empty file, no
model loaded. The replies are the base model's, right or wrong: they carry its format, not the answers."""

# First: imports Unsloth when the profile uses it, before transformers/TRL/PEFT (it patches them only then).
import strawberry.unsloth_first  # noqa: F401, I001

# isort: split

from pathlib import Path

from strawberry.jsonl import read_jsonl, write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params

WORKED = "data/splits/train_worked_control.jsonl"  # worked questions about other words; the replay asks their start
VAL = "data/splits/val.jsonl"  # worked examples come from val words, as in evaluation
TEMPLATES = "data/templates"  # the worked forms of the questions
REPLAY_OUT = Path("data/replay/replay.jsonl")


def replay_questions(worked: list[dict], n: int) -> list[dict]:
    """The first n position/count questions of the worked control's file, asked in the worked mode with their plain
    answer as output (what the reply is scored against, and what sizes its reply limit)."""
    from strawberry.tasks import expected_output

    questions = [r for r in worked if r["meta"]["task"] in ("position", "count")][:n]
    return [{**q, "output": expected_output({**q["meta"], "answer_mode": None}, {})} for q in questions]


def main() -> None:
    log = get_logger("replay")
    params = load_params()
    cfg = params["replay"]
    records: list[dict] = []
    if cfg["records"]:
        from strawberry.answer_modes import in_mode, load_mode_templates, mode_generation
        from strawberry.asking import ask, pick_shots
        from strawberry.precision import autocast
        from strawberry.preflight import check_tokenizer
        from strawberry.profiles import load_model, load_profile, run_precision
        from strawberry.prompts import chat_template_kwargs

        profile = load_profile(params)
        precision = run_precision(profile)
        model, tokenizer = load_model(profile)
        check_tokenizer(profile, tokenizer)
        questions = replay_questions(read_jsonl(WORKED), cfg["records"])
        by_mode = load_mode_templates(TEMPLATES)
        _, (shots,) = in_mode([], [pick_shots(read_jsonl(VAL), cfg["shots"], cfg["seed"])], "worked", by_mode)
        generation = mode_generation(tokenizer, questions, {**profile.generation, "do_sample": False}, "worked")
        log.info("asking the base model %d worked questions about other words (%d-shot)", len(questions), cfg["shots"])
        template_kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
        with autocast(precision):
            rows = ask(model, tokenizer, questions, shots, template_kwargs, generation, cfg["batch_size"], cfg["seed"],
                       "replay", mode="worked")  # fmt: skip
        records = [{**q, "output": r["reply"].strip()} for q, r in zip(questions, rows)]
        log.info("base replies: %d, with an answer line %d, right %d", len(rows),
                 sum(r["lenient"] is not None for r in rows), sum(r["correct"] for r in rows))  # fmt: skip
    REPLAY_OUT.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(REPLAY_OUT, records)
    log.info("%d replay records -> %s", len(records), REPLAY_OUT)


if __name__ == "__main__":
    main()
