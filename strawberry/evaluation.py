"""Evaluating one model: every evaluation question asked in every setting (answer mode, shots, decoding). The work
that evaluate_base (base model, once per profile and question set) and evaluate (the tuned adapter, every
experiment) share, so both ask exactly the same way."""

from pathlib import Path

import yaml

from strawberry.answer_modes import in_mode, load_mode_templates, mode_generation
from strawberry.asking import ask, reworded, sample_per_task, shot_draws
from strawberry.jsonl import read_jsonl
from strawberry.logs import get_logger
from strawberry.profiles import Profile
from strawberry.templates import load_separators
from strawberry.validation import check_record, schema_errors

TEST = "data/splits/test.jsonl"
VAL = "data/splits/val.jsonl"
UNSEEN = "data/benchmarks/unseen.yaml"  # wordings asked as written (evaluate.unseen_per_task)
BASE_PREDICTIONS = "eval/base_predictions.jsonl"  # evaluate_base writes, evaluate reads
TUNED_ONLY = ("snapshot_settings", "tuned_settings")  # evaluate keys base never reads (evaluate_base skips them)
TEMPLATES = "data/templates"  # the spell_first and worked templates; the separators extra files are checked with


def load_extra(name: str, path: str) -> list[dict]:
    """An extra Alpaca question file, checked like generated data (schema and answers)."""
    records = read_jsonl(path)
    joiners = {n: s.joiner for n, s in load_separators(TEMPLATES).items()}
    for line, (record, error) in enumerate(zip(records, schema_errors(records)), start=1):
        problem = check_record(record, error, joiners, ("position", "count", "length"))
        if problem:
            raise ValueError(f"evaluate.extra.{name}: {path}:{line}: {problem}")
    return records


def question_sets(cfg: dict) -> dict[str, list[dict]]:
    """The test questions (a stratified sample of evaluate.questions_per_task per task, of evaluate.classes where
    given) and the extra files."""
    sets = {"test": sample_per_task(read_jsonl(TEST), cfg["questions_per_task"], cfg["seed"],
                                    classes=cfg.get("classes"))}  # fmt: skip
    if cfg.get("unseen_per_task"):  # test questions reworded: wordings no training, val or worked example used
        sets["unseen"] = reworded(sets["test"], yaml.safe_load(Path(UNSEEN).read_text()), cfg["unseen_per_task"])
    return sets | {name: load_extra(name, path) for name, path in cfg["extra"].items()}


def decodings(profile: Profile, samples: int) -> dict[str, tuple[dict, int]]:
    """name -> (generation settings, replies per question). A sampling profile is scored over `samples` replies
    per question at its own settings, with greedy decoding beside it; a greedy profile once."""
    if not profile.generation.get("do_sample"):
        return {"greedy": (profile.generation, 1)}
    greedy = {"do_sample": False, "max_new_tokens": profile.generation["max_new_tokens"]}
    return {"sampled": (profile.generation, samples), "greedy": (greedy, 1)}


def settings(cfg: dict) -> list[tuple[str, int]]:
    """(answer mode, shots) of every evaluation setting: direct at evaluate.shots, spell_first at
    evaluate.spell_first_shots, worked at evaluate.worked_shots."""
    return ([("direct", k) for k in cfg["shots"]] + [("spell_first", k) for k in cfg.get("spell_first_shots", [])]
            + [("worked", k) for k in cfg.get("worked_shots", [])])  # fmt: skip


def setting_key(mode: str, shots: int) -> str:
    """The name of a setting in metrics and details: "3shot" (direct), "spell_first_3shot"."""
    return f"{shots}shot" if mode == "direct" else f"{mode}_{shots}shot"


def answer_all(model, tokenizer, profile: Profile, template_kwargs: dict, cfg: dict, model_name: str,
               only: list[str] | None = None) -> list[dict]:  # fmt: skip
    """One prediction row per reply: every question set x setting (answer mode, shots) x decoding, in a fixed
    order (`only`: these setting keys). k-shot questions take cfg["shot_draws"] draws of worked examples in turn."""
    log = get_logger("evaluate")
    val = read_jsonl(VAL)
    by_mode = load_mode_templates(TEMPLATES)
    rows = []
    for set_name, questions in question_sets(cfg).items():
        for mode, k in settings(cfg):
            if only is not None and setting_key(mode, k) not in only:
                continue
            asked, draws = in_mode(questions, shot_draws(val, k, cfg["seed"], cfg.get("shot_draws", 1)), mode,
                                   by_mode)  # fmt: skip
            for decoding, (generation, samples) in decodings(profile, cfg["samples"]).items():
                desc = f"{model_name}: {set_name} {setting_key(mode, k)} {decoding}"
                log.info("asking %d questions x %d: %s", len(asked), samples, desc)
                replies = ask(model, tokenizer, asked, draws, template_kwargs,
                              mode_generation(tokenizer, asked, generation, mode), cfg["batch_size"], cfg["seed"], desc,
                              samples, mode)  # fmt: skip
                rows += [{"set": set_name, "model": model_name, "shots": k, "setting": setting_key(mode, k),
                          "decoding": decoding, **r} for r in replies]  # fmt: skip
    return rows


def group(rows: list[dict]) -> dict[tuple[str, str, str, str], list[dict]]:
    """(set, model, setting, decoding) -> rows, in order."""
    out: dict[tuple[str, str, str, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r["set"], r["model"], r["setting"], r["decoding"]), []).append(r)
    return out
