"""The format-control arm: right reply shape, wrong letters, checked over every real English token."""

import json
import random
from pathlib import Path

import pytest

from strawberry.answers import expected_output
from strawberry.generation import format_control_records, spelling_records
from strawberry.jsonl import write_jsonl
from strawberry.schema import schema_error
from strawberry.templates import load_separators, load_templates
from strawberry.tokenizer import english_tokens
from strawberry.validation import Report, validate_control

TEMPLATES = Path(__file__).resolve().parent.parent / "data" / "templates"


@pytest.fixture(scope="module")
def arms(qwen3_tokenizer):
    separators = load_separators(TEMPLATES)
    joiners = {n: s.joiner for n, s in separators.items()}
    tokens = english_tokens(qwen3_tokenizer, dictionary=set())  # every English token of the real vocabulary
    spelling = spelling_records(tokens, load_templates(TEMPLATES)["spelling"], separators, 1, {}, random.Random(0))
    return spelling, format_control_records(spelling, joiners, random.Random(1)), joiners


def split_letters(output: str, joiner: str) -> list[str]:
    return output.split(joiner) if joiner else list(output)


def test_control_is_wrong_spelling_with_the_right_shape(arms):
    spelling, control, joiners = arms
    assert len(control) == len(spelling) > 50_000
    for true, fake in zip(spelling, control):
        meta = fake["meta"]
        assert fake["instruction"] == true["instruction"] and meta["word"] == true["meta"]["word"]
        assert fake["output"] != expected_output(meta, joiners)  # never the true spelling
        letters = split_letters(fake["output"], joiners[meta["separator"]])
        assert len(letters) == len(meta["word"]) and all(len(c) == 1 and c.isalpha() for c in letters)
        if meta["control"] == "shuffle":
            assert sorted(letters) == sorted(meta["word"])
        assert meta["arm"] == "format_control"
    methods = {f["meta"]["control"] for f in control}
    assert methods == {"shuffle", "other_token"}  # "AA"-like tokens take another token's letters
    assert all(schema_error(f) is None for f in control[:2000])


def test_validate_control_names_bad_records(tmp_path, arms):
    spelling, control, joiners = arms
    s_path, c_path = tmp_path / "spelling.jsonl", tmp_path / "control.jsonl"
    write_jsonl(s_path, spelling[:50])
    bad = json.loads(json.dumps(control[:50]))
    bad[3]["output"] = spelling[3]["output"]  # the true spelling sneaks in
    bad[7]["output"] = bad[7]["output"] + "x" if joiners[bad[7]["meta"]["separator"]] == "" else "ab"
    write_jsonl(c_path, bad)
    report = Report()
    validate_control(s_path, c_path, joiners, report)
    assert report.errors[0].startswith(f"{c_path}:4: output") and "is the true spelling" in report.errors[0]
    assert report.errors[1].startswith(f"{c_path}:8: output") and "does not have the shape" in report.errors[1]
    write_jsonl(c_path, control[:49])
    report = Report()
    validate_control(s_path, c_path, joiners, report)
    assert "49 records, but" in report.errors[0]
