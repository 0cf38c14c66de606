"""Answer modes: spell_first and worked questions from their templates, worked replies and how replies are read."""

import random
from pathlib import Path

import pytest

from strawberry.answer_modes import (
    in_mode,
    mode_generation,
    mode_templates,
    read_reply,
    worked_reply,
    worked_reply_limits,
)
from strawberry.generation import eval_records
from strawberry.tasks import ParsedAnswer
from strawberry.templates import load_templates

ROOT = Path(__file__).resolve().parent.parent
WORDS = [{"word": w, "token_split": [w[:3], w[3:]]} for w in ("added", "strawberry", "bookkeeper", "mississippi")]


@pytest.fixture(scope="module")
def questions():
    templates = load_templates(ROOT / "data" / "templates")
    rows = eval_records(WORDS, templates, {"position": 2, "count": 2, "length": 1}, {"0": 1, "1": 1, "2": 1, "3+": 1},
                        random.Random(0))  # fmt: skip
    return rows, mode_templates(templates)


def test_worked_reply_numbers_letters_and_keeps_a_running_count():
    count = {"output": "3", "meta": {"task": "count", "word": "added", "letter": "d"}}
    assert worked_reply(count) == "1: a\n2: d (1)\n3: d (2)\n4: e\n5: d (3)\nAnswer: 3"
    position = {"output": "d", "meta": {"task": "position", "word": "added", "letter": "d", "position": 3}}
    assert worked_reply(position) == "1: a\n2: d\n3: d\n4: e\n5: d\nAnswer: d"  # no running count for position


def test_each_letter_of_the_worked_form_is_its_own_qwen3_token(qwen3_tokenizer):
    pieces = qwen3_tokenizer.encode("1: q\n2: z (1)\n3: x\nAnswer: 1", add_special_tokens=False).tokens
    assert {"Ġq", "Ġz", "Ġx"} <= set(pieces)


def test_worked_questions_come_from_their_templates_siblings(questions):
    rows, by_mode = questions
    shots = [{"position": rows[:1], "count": [r for r in rows if r["meta"]["task"] == "count"][:1]}]
    asked, draws = in_mode(rows, shots, "worked", by_mode)
    assert {q["meta"]["task"] for q in asked} == {"position", "count"}  # no length questions
    assert all(q["meta"]["template_id"].endswith(".worked") and "Answer:" in q["instruction"] for q in asked)
    assert all(q["output"] == r["output"] for q, r in zip(asked, [r for r in rows if r["meta"]["task"] != "length"]))
    example = draws[0]["count"][0]
    assert example["output"].endswith(f"\nAnswer: {rows[[r['meta']['task'] for r in rows].index('count')]['output']}")
    with pytest.raises(ValueError, match="unknown answer mode 'shouting'"):
        in_mode(rows, shots, "shouting", by_mode)


@pytest.mark.parametrize(
    "task, reply, parsed",
    [
        ("count", "1: a\n2: d (1)\n3: d (2)\nAnswer: 2", ParsedAnswer("2", "2")),
        ("count", "1: a\nanswer:  two", ParsedAnswer(None, "2")),  # lenient: a number word
        ("count", "Answer: 3", ParsedAnswer(None, "3")),  # no work before it: not strict
        ("count", "1: a\n2: d (1)\n3: d", ParsedAnswer(None, None)),  # cut off before the answer line
        ("position", "1: a\n2: d\n3: d\nAnswer: d\nAnswer: e", ParsedAnswer("e", "e")),  # the last marked line
        ("position", "1: s\n2: t\nAnswer: 'T'.", ParsedAnswer(None, "t")),
        ("position", "s t r a w", ParsedAnswer(None, None)),
    ],
)  # fmt: skip
def test_worked_reply_is_read_at_its_marked_line(task, reply, parsed):
    assert read_reply(task, reply, "worked") == parsed


def test_worked_reply_limit_fits_every_questions_reply(questions, qwen3_tokenizer):
    from strawberry.tokenizer import QWEN3, load_hf_tokenizer

    rows, by_mode = questions
    asked, _ = in_mode(rows, [], "worked", by_mode)
    limit = mode_generation(load_hf_tokenizer(QWEN3), asked, {"max_new_tokens": 4}, "worked")["max_new_tokens"]
    longest = max(len(qwen3_tokenizer.encode(worked_reply(q), add_special_tokens=False).ids) for q in asked)
    # every question's own worked reply fits, with room for a misspelling half again as long, and no more than that
    assert longest * 3 // 2 <= limit <= longest * 2 and longest > 25
    assert mode_generation(None, asked, {"max_new_tokens": 4}, "direct") == {"max_new_tokens": 4}


def test_worked_questions_are_asked_and_read_by_a_real_model(questions):
    """The tiny Qwen3 (random weights, real tokenizer and chat template) asked in the worked mode with one worked
    example: every reply is generated within the mode's limit and read at its marked line (none, from random
    weights), and the prompt shows the example's whole worked reply."""
    from strawberry.asking import ask
    from strawberry.params import load_params
    from strawberry.profiles import load_model, load_profile
    from strawberry.prompts import chat_template_kwargs, render_prompt

    rows, by_mode = questions
    profile = load_profile({**load_params(ROOT / "params.yaml"), "model": "tiny-qwen3"})
    model, tokenizer = load_model(profile)
    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    shots = [{"position": [rows[0]], "count": [next(r for r in rows if r["meta"]["task"] == "count")]}]
    asked, draws = in_mode(rows[5:], shots, "worked", by_mode)
    generation = mode_generation(tokenizer, asked, profile.generation, "worked")
    replies = ask(model, tokenizer, asked, draws, kwargs, generation, 8, 0, "worked test", mode="worked")
    assert len(replies) == len(asked) and {r["mode"] for r in replies} == {"worked"}
    own_limits = worked_reply_limits(tokenizer, asked, "worked")
    assert min(own_limits) < max(own_limits) == generation["max_new_tokens"]
    for r, own in zip(replies, own_limits):  # each reply stopped at its own limit (random weights never answer)
        assert len(tokenizer(r["reply"], add_special_tokens=False)["input_ids"]) <= own
        assert "Answer:" not in r["reply"] and r["lenient"] is None  # no marked line, no answer (not the first letter)
    prompt = render_prompt(tokenizer, asked[0], draws[0][asked[0]["meta"]["task"]], kwargs)
    assert worked_reply(shots[0][asked[0]["meta"]["task"]][0]) in prompt and "enable_thinking" not in prompt


def test_unseen_wordings_are_asked_as_written_in_every_mode(questions):
    """Reworded test questions keep word, letter and answer, spread over the classes, carry an unseen template id,
    and no answer mode swaps their wording for a trained template."""
    import yaml

    from strawberry.asking import reworded

    rows, by_mode = questions
    wordings = yaml.safe_load((ROOT / "data" / "benchmarks" / "unseen.yaml").read_text())
    asked = reworded(rows, wordings, 4)
    assert [q["meta"]["task"] for q in asked] == ["position"] * 4 + ["count"] * 4
    trained = {t.instruction for t in by_mode.values()} | {r["instruction"] for r in rows}
    for q in asked:
        source = next(r for r in rows if r["meta"] == {**q["meta"], "template_id": r["meta"]["template_id"]})
        assert q["output"] == source["output"] and q["meta"]["template_id"].startswith("unseen.")
        assert q["instruction"] not in trained and q["meta"]["word"] in q["instruction"]
    assert "How many r's in strawberry?" == wordings["count"][0].format(letter="r", word="strawberry")
    for mode in ("spell_first", "worked"):
        again, _ = in_mode(asked, [], mode, by_mode)
        assert [q["instruction"] for q in again] == [q["instruction"] for q in asked]
    assert len({q["meta"]["word"] for q in asked if q["meta"]["task"] == "position"}) > 1
