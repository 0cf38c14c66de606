"""Asking one model every evaluation question: the work that evaluate_base (base model, once per profile and
question set) and evaluate (the tuned adapter, every experiment) share, so both ask exactly the same way."""

from strawberry.evaluation import ask, pick_shots, sample_per_task
from strawberry.jsonl import read_jsonl
from strawberry.logs import get_logger
from strawberry.profiles import Profile
from strawberry.templates import load_separators
from strawberry.validation import check_record, schema_errors

TEST = "data/splits/test.jsonl"
VAL = "data/splits/val.jsonl"
BASE_PREDICTIONS = "eval/base_predictions.jsonl"  # evaluate_base writes, evaluate reads


def load_extra(name: str, path: str) -> list[dict]:
    """An extra Alpaca question file, checked like generated data (schema and answers)."""
    records = read_jsonl(path)
    joiners = {n: s.joiner for n, s in load_separators("data/templates").items()}
    for line, (record, error) in enumerate(zip(records, schema_errors(records)), start=1):
        problem = check_record(record, error, joiners, ("position", "count", "length"))
        if problem:
            raise ValueError(f"evaluate.extra.{name}: {path}:{line}: {problem}")
    return records


def question_sets(cfg: dict) -> dict[str, list[dict]]:
    """The test questions (a stratified sample of evaluate.questions_per_task per task) and the extra files."""
    sets = {"test": sample_per_task(read_jsonl(TEST), cfg["questions_per_task"], cfg["seed"])}
    return sets | {name: load_extra(name, path) for name, path in cfg["extra"].items()}


def decodings(profile: Profile, samples: int) -> dict[str, tuple[dict, int]]:
    """name -> (generation settings, replies per question). A sampling profile is scored over `samples` replies
    per question at its own settings, with greedy decoding beside it; a greedy profile once."""
    if not profile.generation.get("do_sample"):
        return {"greedy": (profile.generation, 1)}
    greedy = {"do_sample": False, "max_new_tokens": profile.generation["max_new_tokens"]}
    return {"sampled": (profile.generation, samples), "greedy": (greedy, 1)}


def answer_all(model, tokenizer, profile: Profile, template_kwargs: dict, cfg: dict, model_name: str) -> list[dict]:
    """One prediction row per reply: every question set x shot count x decoding, in a fixed order."""
    log = get_logger("evaluate")
    val = read_jsonl(VAL)
    rows = []
    for set_name, questions in question_sets(cfg).items():
        for k in cfg["shots"]:
            shots = pick_shots(val, k, cfg["seed"])
            for decoding, (generation, samples) in decodings(profile, cfg["samples"]).items():
                desc = f"{model_name}: {set_name} {k}-shot {decoding}"
                log.info("asking %d questions x %d: %s", len(questions), samples, desc)
                replies = ask(model, tokenizer, questions, shots, template_kwargs, generation, cfg["batch_size"],
                              cfg["seed"], desc, samples)  # fmt: skip
                rows += [{"set": set_name, "model": model_name, "shots": k, "decoding": decoding, **r} for r in replies]
    return rows


def group(rows: list[dict]) -> dict[tuple[str, str, int, str], list[dict]]:
    """(set, model, shots, decoding) -> rows, in order."""
    out: dict[tuple[str, str, int, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r["set"], r["model"], r["shots"], r["decoding"]), []).append(r)
    return out
