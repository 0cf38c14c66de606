"""The Alpaca record: its meta keys, how one is built, and the JSON Schemas kept in the repo (strawberry/schemas/)
that records and template files are checked against."""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

SCHEMA_DIR = Path(__file__).parent / "schemas"
RECORD_SCHEMA = SCHEMA_DIR / "alpaca_record.schema.json"
TEMPLATE_FILE_SCHEMA = SCHEMA_DIR / "template_file.schema.json"

# Every record carries every meta key (None where it does not apply), so that all splits share one set of
# columns and load together with datasets.load_dataset("json", ...).
META_KEYS = ("task", "arm", "word", "length", "template_id", "style", "category", "direction", "separator",
             "token_ids", "token_split", "n_tokens", "letter", "position", "position_category", "control",
             "answer_mode", "split")  # fmt: skip


def alpaca(instruction: str, output: str, meta: dict[str, Any]) -> dict[str, Any]:
    unknown = set(meta) - set(META_KEYS)
    if unknown:
        raise ValueError(f"meta keys {sorted(unknown)} are not in META_KEYS")
    return {"instruction": instruction, "input": "", "output": output, "meta": {k: meta.get(k) for k in META_KEYS}}


@cache
def validator(path: Path) -> Draft7Validator:
    with open(path) as f:
        schema = json.load(f)
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def schema_error(instance: Any, path: Path = RECORD_SCHEMA) -> str | None:
    """None if the instance is valid, else the most relevant error as 'at <json path>: <message>'."""
    v = validator(path)
    if v.is_valid(instance):  # fast path; iter_errors only for the few bad ones
        return None
    error = best_match(v.iter_errors(instance))
    return f"at {error.json_path}: {error.message}"


def hf_features():
    """datasets.Features of a record, for loading several splits at once (a column that is null throughout
    one split, like meta.letter in train, cannot be inferred from that split alone)."""
    from datasets import Features, List, Value

    string, integer = Value("string"), Value("int64")
    meta = {key: string for key in ("task", "arm", "word", "template_id", "style", "category", "direction",
                                    "separator", "letter", "position_category", "control", "answer_mode",
                                    "split")}  # fmt: skip
    meta |= {"length": integer, "n_tokens": integer, "position": integer,
             "token_ids": List(integer), "token_split": List(string)}  # fmt: skip
    return Features({"instruction": string, "input": string, "output": string, "meta": meta})
