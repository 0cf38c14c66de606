"""What a grid costs before it runs: per cell the training steps (a mixed arm's added pass included) and the replies
it generates, base's answers once, and GPU hours projected from the H100 figures docs/cloud.md measured.

The figures (docs/cloud.md, "How long, how much memory", one H100, Unsloth 4-bit, the 4B shape):
training 0.710 s a step of 317 tokens at batch 8, scaled here by a step's tokens (an upper bound: that step was
overhead, not arithmetic); generation 16.9 / 34.1 / 55.0 / 94.2 questions a second of 16-token replies at batch
16 / 32 / 64 / 128; about a minute to load the model in each stage. Replies are counted at their limits (a worked
reply stops at its answer line, usually sooner). No figure was measured on worked records: the hours are projected."""

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from strawberry.arms import ADDED_PARTS, TRAIN_FILES
from strawberry.study.resolved import flatten, resolved_settings, stage_sizes, with_overrides

STEP_S, STEP_TOKENS = 0.710, 317  # Unsloth 4-bit, batch 8 (docs/cloud.md)
QUESTIONS_PER_S = {16: 16.9, 32: 34.1, 64: 55.0, 128: 94.2}  # 16-token replies (docs/cloud.md)
MEASURED_REPLY = 16
LOAD_S = 60  # loading the 4-bit model, per stage
CHAT_TOKENS = 30  # the chat template's turns around a record's text


@dataclass
class CellCost:
    name: str
    steps: int
    tokens_per_step: int
    train_replies: int  # val evaluations during training
    test_replies: int  # the tuned model and its snapshots on the test questions
    seconds: float
    uncounted: list[str]  # added files not built yet: their pass is missing from steps


def lines(path: str) -> int | None:
    p = Path(path)
    return sum(1 for _ in p.open()) if p.is_file() else None


def mean_tokens(path: str, tokenizer) -> float | None:
    """Mean tokens of a training file's records (instruction + output, and the chat turns around them)."""
    p = Path(path)
    if not p.is_file() or tokenizer is None:
        return None
    records = [json.loads(line) for line in p.open()][:2000]
    texts = [r["instruction"] + r["output"] for r in records]
    return sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]) / len(texts) + CHAT_TOKENS


def as_list(value) -> list:
    """A list param as a run reads it: a list, a YAML string ("[40]", "[worked_0shot]", from a grid), or null."""
    return (yaml.safe_load(value) if isinstance(value, str) else value) or []


def generation_seconds(replies: int, reply_tokens: float, batch: int) -> float:
    rate = QUESTIONS_PER_S[min(QUESTIONS_PER_S, key=lambda b: abs(b - batch))] * MEASURED_REPLY  # tokens a second
    return replies * reply_tokens / rate


def cell_cost(name: str, flat: dict, questions: int, reply_tokens: float, tokenizer) -> CellCost:
    train = stage_sizes(flat, "train")
    evaluate = stage_sizes(flat, "evaluate")
    resolved = resolved_settings(flat)
    main, added_files = ADDED_PARTS.get(train["arm"], (train["arm"], []))
    steps = resolved["steps"] if main else 0
    validated_at_end = train["eval_steps"] >= resolved["steps"]  # a mixed arm stretches that to its whole length
    # the replay records are known from their parameter before the replay stage has run
    added = [lines(f) if lines(f) is not None or "replay" not in f else flat.get("replay.records") for f in added_files]
    per_step = resolved["batch_size"] * resolved["grad_accum"]
    steps += sum(-(-n // per_step) for n in added if n)
    file = TRAIN_FILES[main] if main else added_files[0]
    tokens = mean_tokens(file, tokenizer) or 150.0  # a worked record is about 150 tokens
    val_evals = 1 if validated_at_end else max(1, steps // max(1, train["eval_steps"]))
    snapshots = len(as_list(train.get("snapshot_steps")))
    settings = len(as_list(evaluate.get("tuned_settings"))) or 1
    train_replies = val_evals * train["val_questions"]
    test_replies = questions * settings * (1 + snapshots)
    seconds = (steps * STEP_S * max(1.0, per_step * tokens / STEP_TOKENS) + 2 * LOAD_S
               + generation_seconds(train_replies, reply_tokens, train.get("gen_batch_size", 32))
               + generation_seconds(test_replies, reply_tokens, evaluate["batch_size"]))  # fmt: skip
    missing = [f for f, n in zip(added_files, added) if n is None]  # their pass is not in `steps`
    return CellCost(name, steps, round(per_step * tokens), train_replies, test_replies, seconds, missing)


def grid_costs(cells, params: dict, tokenizer=None, questions: int | None = None,
               reply_tokens: float | None = None) -> tuple[list[CellCost], dict]:  # fmt: skip
    """Each cell's cost and the grid's: base's answers once (every setting of the first cell's evaluate section)."""
    flats = [with_overrides(flatten(params), c.overrides) for c in cells]
    evaluate = stage_sizes(flats[0], "evaluate")
    asked = questions or sum(v for k, v in evaluate.items() if k.startswith("questions_per_task.") and v)
    per_reply = reply_tokens or 100.0
    costs = [cell_cost(c.name, f, asked, per_reply, tokenizer) for c, f in zip(cells, flats)]
    shots = as_list(evaluate.get("worked_shots")) + as_list(evaluate.get("shots"))
    base_replies = asked * max(1, len(shots))
    base_s = LOAD_S + generation_seconds(base_replies, per_reply, evaluate["batch_size"])
    total = sum(c.seconds for c in costs) + base_s
    return costs, {"base_replies": base_replies, "base_seconds": base_s, "gpu_hours": total / 3600,
                   "questions": asked, "reply_tokens": per_reply}  # fmt: skip
