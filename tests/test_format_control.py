"""The training arms beside spelling, over every real English token: format_control (right reply shape, letters
that carry nothing about the token), indexed (TIPA: letters with their positions) and what validate refuses."""

import json
import random

import pytest

from strawberry.jsonl import write_jsonl
from strawberry.records import schema_error
from strawberry.tasks import expected_output
from strawberry.tasks.common import letter_multiset
from strawberry.tasks.indexed import records as indexed_records
from strawberry.tasks.spelling import format_control_records
from strawberry.tasks.spelling import records as spelling_records
from strawberry.templates import load_separators, load_templates
from strawberry.tokenizer import english_tokens
from strawberry.validation import Report, control_problem, indexed_problem, validate_mirror
from tests.conftest import ROOT

TEMPLATES = ROOT / "data" / "templates"


@pytest.fixture(scope="module")
def arms(qwen3_tokenizer):
    separators = load_separators(TEMPLATES)
    joiners = {n: s.joiner for n, s in separators.items()}
    templates = load_templates(TEMPLATES)
    tokens = english_tokens(qwen3_tokenizer, dictionary=set())  # every English token of the real vocabulary
    spelling = spelling_records(tokens, templates["spelling"], separators, 1, {}, random.Random(0))
    control = format_control_records(spelling, joiners, random.Random(1))
    indexed = indexed_records(spelling, templates["indexed"], random.Random(2))
    return spelling, control, indexed, joiners


def split_letters(output: str, joiner: str) -> list[str]:
    return output.split(joiner) if joiner else list(output)


def test_control_has_the_shape_and_none_of_the_tokens_letters(arms):
    spelling, control, _, joiners = arms
    assert len(control) == len(spelling) > 50_000
    for true, fake in zip(spelling, control):
        meta = fake["meta"]
        assert fake["instruction"] == true["instruction"] and meta["word"] == true["meta"]["word"]
        letters = split_letters(fake["output"], joiners[meta["separator"]])
        assert len(letters) == len(meta["word"]) and all(len(c) == 1 and c.isalpha() for c in letters)
        # neither positions nor counts leak: the reply's letters are not the token's, in any order
        assert letter_multiset("".join(letters)) != letter_multiset(meta["word"]), fake
        assert meta["arm"] == "format_control"
    assert {f["meta"]["control"] for f in control} <= {"other_token", "random_letters"}
    assert all(schema_error(f) is None for f in control[:2000])


def test_indexed_spells_with_positions_and_keeps_letters_single_tokens(arms, qwen3_tokenizer):
    spelling, _, indexed, joiners = arms
    assert len(indexed) == len(spelling)
    assert {r["meta"]["direction"] for r in indexed} == {"forward", "reverse"}
    for true, record in zip(spelling, indexed):
        assert record["meta"]["word"] == true["meta"]["word"]
        assert record["output"] == expected_output(record["meta"], joiners)
    straw = next(r for r in indexed if r["meta"]["word"] == "straw" and r["meta"]["direction"] == "forward")
    assert straw["output"] == "1: s 2: t 3: r 4: a 5: w"
    pieces = qwen3_tokenizer.encode("1: q 17: z 3: s", add_special_tokens=False).tokens
    assert "Ġq" in pieces and "Ġz" in pieces and "Ġs" in pieces  # each letter its own token, as in "s t r"


def test_validate_refuses_a_control_record_with_the_tokens_letters(tmp_path, arms):
    spelling, control, indexed, joiners = arms
    s_path, c_path = tmp_path / "spelling.jsonl", tmp_path / "control.jsonl"
    write_jsonl(s_path, spelling[:50])
    bad = json.loads(json.dumps(control[:50]))
    bad[3]["output"] = spelling[3]["output"]  # the true spelling sneaks in
    word = spelling[5]["meta"]["word"]
    bad[5]["output"] = joiners[bad[5]["meta"]["separator"]].join(sorted(word, reverse=True))  # its letters, reordered
    bad[7]["output"] = bad[7]["output"] + "x" if joiners[bad[7]["meta"]["separator"]] == "" else "ab"
    write_jsonl(c_path, bad)
    report = Report()
    validate_mirror(s_path, c_path, joiners, report, control_problem)
    token = spelling[3]["meta"]["word"]
    assert report.errors[0].startswith(f"{c_path}:4: output")
    assert f"letters of the spelled token {token!r}" in report.errors[0]
    assert report.errors[1].startswith(f"{c_path}:6: output") and "letters of the spelled token" in report.errors[1]
    assert report.errors[2].startswith(f"{c_path}:8: output") and "does not have the shape" in report.errors[2]
    write_jsonl(c_path, control[:49])
    report = Report()
    validate_mirror(s_path, c_path, joiners, report, control_problem)
    assert "49 records, but" in report.errors[0]
    i_path = tmp_path / "indexed.jsonl"
    wrong = json.loads(json.dumps(indexed[:50]))
    wrong[2]["output"] = wrong[2]["output"].replace("1: ", "2: ", 1)
    write_jsonl(i_path, wrong)
    report = Report()
    validate_mirror(s_path, i_path, joiners, report, indexed_problem)
    assert len(report.errors) == 1 and report.errors[0].startswith(f"{i_path}:3: wrong answer")
