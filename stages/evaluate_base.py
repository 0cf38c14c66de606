"""Stage evaluate_base: the base model's answers to every evaluation question, computed once per profile,
question set, shots and decoding. No adapter is read, so DVC reuses these answers for every experiment and arm
(the stage is unchanged, or its outputs come back from the run-cache)."""

# First: imports Unsloth when the profile uses it, before transformers/TRL/PEFT (it patches them only then).
import strawberry.unsloth_first  # noqa: F401, I001

# isort: split

from strawberry.evaluation import BASE_PREDICTIONS, answer_all
from strawberry.jsonl import write_jsonl
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.precision import autocast
from strawberry.preflight import check_tokenizer
from strawberry.profiles import load_model, load_profile, run_precision, stage_settings
from strawberry.prompts import chat_template_kwargs


def main() -> None:
    log = get_logger("evaluate_base")
    params = load_params()
    profile = load_profile(params)
    precision = run_precision(profile)  # a GPU profile on a CPU machine stops here, before loading
    model, tokenizer = load_model(profile)
    check_tokenizer(profile, tokenizer)
    log.info("profile %s at precision %s", profile.name, precision)
    with autocast(precision):
        rows = answer_all(model, tokenizer, profile, chat_template_kwargs(tokenizer, profile.chat_template_kwargs),
                          stage_settings(params, profile, "evaluate"), "base")  # fmt: skip
    write_jsonl(BASE_PREDICTIONS, [{**r, "precision": precision} for r in rows])
    log.info("%d base-model replies -> %s", len(rows), BASE_PREDICTIONS)


if __name__ == "__main__":
    main()
