import random
from collections import Counter
from pathlib import Path

import pytest

from strawberry.generation import eval_records
from strawberry.records import schema_error
from strawberry.tasks import expected_output
from strawberry.tasks.common import balanced, ordinal
from strawberry.tasks.count import assign_count_classes, class_targets, count_class, pick_eval_words
from strawberry.tasks.position import category as position_category
from strawberry.tasks.spelling import records as spelling_records
from strawberry.templates import TemplateError, load_separators, load_templates

TEMPLATES = Path(__file__).resolve().parent.parent / "data" / "templates"
TOKENS = [{"id": i, "text": t} for i, t in enumerate(["straw", "berry", "The", "ing", "abc", "Berry", "xy"])]
WORDS = [{"word": w, "token_split": [w[:2], w[2:]]} for w in ["aardvark", "added", "zebra", "mississippi", "oxo"]]
PER_WORD = {"position": 3, "count": 2, "length": 1}


@pytest.fixture(scope="module")
def templates():
    return load_templates(TEMPLATES)


@pytest.fixture(scope="module")
def joiners():
    return {name: s.joiner for name, s in load_separators(TEMPLATES).items()}


@pytest.mark.parametrize(
    "n, text",
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinal(n, text):
    assert ordinal(n) == text


@pytest.mark.parametrize(
    "meta, output",
    [({"task": "spelling", "word": "straw", "direction": "forward", "separator": "space"}, "s t r a w"),
     ({"task": "spelling", "word": "straw", "direction": "reverse", "separator": "comma"}, "w, a, r, t, s"),
     ({"task": "spelling", "word": "Ab", "direction": "forward", "separator": "arrow"}, "A -> b"),
     ({"task": "spelling", "word": "abc", "direction": "forward", "separator": "none"}, "abc"),
     ({"task": "spelling", "word": "abc", "direction": "forward", "separator": "dots"}, "a.b.c"),
     ({"task": "spelling", "word": "abc", "direction": "forward", "separator": "dash"}, "a-b-c"),
     ({"task": "spelling", "word": "abc", "direction": "forward", "separator": "newline"}, "a\nb\nc"),
     ({"task": "position", "word": "added", "position": 3}, "d"),
     ({"task": "count", "word": "strawberry", "letter": "r"}, "3"),
     ({"task": "count", "word": "strawberry", "letter": "z"}, "0"),
     ({"task": "length", "word": "strawberry"}, "10")],
)  # fmt: skip
def test_expected_output(meta, output, joiners):
    assert expected_output(meta, joiners) == output


def test_position_category():
    assert [position_category(p, 5) for p in range(1, 6)] == ["first", "middle", "middle", "middle", "last"]


def test_balanced_counts_are_exact():
    draws = balanced(["a", "b", "c"], 10, random.Random(0), {"a": 2, "b": 1, "c": 1})
    assert Counter(draws) == {"a": 5, "b": 3, "c": 2}
    assert "z" not in balanced(["y", "z"], 9, random.Random(0), {"y": 1, "z": 0})
    with pytest.raises(ValueError, match="unknown option"):
        balanced(["a"], 3, random.Random(0), {"b": 1})


def test_spelling_records_are_right_balanced_and_deterministic(templates, joiners):
    separators = load_separators(TEMPLATES)
    make = lambda seed: spelling_records(TOKENS * 1, templates["spelling"], separators, 12, {}, random.Random(seed))  # noqa: E731
    records = make(1)
    assert records == make(1) and records != make(2)
    texts = {t["text"] for t in TOKENS}
    assert Counter(r["meta"]["word"] for r in records) == dict.fromkeys(texts, 12)
    for r in records:
        assert schema_error(r) is None
        assert r["output"] == expected_output(r["meta"], joiners)
        assert f"'{r['meta']['word']}'" in r["instruction"] and "{" not in r["instruction"]
    for key in ("separator", "category", "style"):
        sizes = Counter(r["meta"][key] for r in records).values()
        assert max(sizes) - min(sizes) <= 1, key


def test_spelling_weights_and_missing_cells(templates):
    separators = load_separators(TEMPLATES)
    records = spelling_records(TOKENS, templates["spelling"], separators, 4, {"separator": {"space": 1}},
                               random.Random(0))  # fmt: skip
    assert {r["meta"]["separator"] for r in records} == {"space"}
    only_simple = [t for t in templates["spelling"] if t.style == "simple"]
    with pytest.raises(TemplateError, match="no spelling template for \\(category, style\\)"):
        spelling_records(TOKENS, only_simple, separators, 4, {"style": {"simple": 1, "playful": 1}},
                         random.Random(0))  # fmt: skip


def test_eval_records(templates, joiners):
    records = eval_records(WORDS, templates, PER_WORD, {"0": 1, "1": 1}, rng=random.Random(0))
    assert Counter(r["meta"]["task"] for r in records) == {"position": 15, "count": 10, "length": 5}
    for r in records:
        assert schema_error(r) is None
        assert r["output"] == expected_output(r["meta"], joiners)
    positions = [r["meta"] for r in records if r["meta"]["task"] == "position"]
    for word in WORDS:  # first, middle and last of every word, each once
        asked = sorted(m["position_category"] for m in positions if m["word"] == word["word"])
        assert asked == ["first", "last", "middle"]
    counts = [r for r in records if r["meta"]["task"] == "count"]
    assert Counter(r["output"] for r in counts) == {"0": 5, "1": 5}  # the classes at the set weights
    direct = [t for task in PER_WORD for t in templates[task] if t.answer_mode == "direct"]
    assert {r["meta"]["template_id"] for r in records} == {t.id for t in direct}  # spell_first ones never generated


BALANCE = {"0": 1, "1": 1, "2": 1, "3+": 1}


def test_count_questions_are_balanced_over_the_true_count(templates):
    per_word = {"position": 0, "count": 2, "length": 0}
    records = eval_records(WORDS, templates, per_word, BALANCE, rng=random.Random(0))
    realised = Counter(count_class(r["output"]) for r in records)
    assert realised == class_targets(10, BALANCE) and set(realised.values()) == {2, 3}
    for word in WORDS:  # a word's count questions ask about different true counts
        classes = [count_class(r["output"]) for r in records if r["meta"]["word"] == word["word"]]
        assert len(classes) == 2 and len(set(classes)) == 2
    for r in records:
        if r["output"] != "0":
            assert r["meta"]["letter"] in r["meta"]["word"]


def test_eval_words_are_drawn_so_that_the_balance_is_possible():
    words = "abc def ghi jkl mno pqr stu aab ccd eeef gggh iiij llmm".split()
    pool = [{"word": w, "token_split": [w]} for w in words]
    words = pick_eval_words(pool, 6, 2, BALANCE, random.Random(0))
    assert len(words) == 6 and sum(max(Counter(w["word"]).values()) >= 3 for w in words) >= 3
    assign_count_classes([w["word"] for w in words], 2, BALANCE, random.Random(0))  # possible: no error
    with pytest.raises(ValueError, match=r"3 questions with true count 3\+ need as many words with such a letter; "
                                         r"the eval pool has 0"):  # fmt: skip
        pick_eval_words(pool[:9], 6, 2, BALANCE, random.Random(0))
    with pytest.raises(ValueError, match="count questions per word must be <= 4"):
        assign_count_classes(["abc"], 5, BALANCE, random.Random(0))


def test_worked_control_answers_in_the_worked_form_about_other_words(templates, joiners, tmp_path):
    """Per word: a position and a count question answered in the worked form, and the word spelled; no val/test
    word nor a sibling of one; validate re-derives every output and refuses a sibling or a wrong running count."""
    import json

    from strawberry.generation import control_pool, worked_control_records
    from strawberry.jsonl import write_jsonl
    from strawberry.validation import Report, validate_control_arm

    pool = [{"word": w, "token_split": [w[:3], w[3:]], "n_tokens": 2, "token_ids": [i, i + 1]}
            for i, w in enumerate(["bookkeeper", "mississippi", "tennessee", "assassins", "possesses", "absolutist",
                                   "absolutism", "strawberry", "cheeseboard", "reassesses"])]  # fmt: skip
    evals = [{"word": "absolutism"}]
    others = control_pool(pool, evals, 6)
    assert {w["word"] for w in others} == {w["word"] for w in pool} - {"absolutist", "absolutism"}
    separators = load_separators(TEMPLATES)
    records = worked_control_records(others, 9, templates, separators, {}, {"0": 1, "1": 1, "2": 1, "3+": 1},
                                     random.Random(0), "eiosantrl")  # fmt: skip
    assert [r["meta"]["task"] for r in records] == ["position", "count", "spelling"] * 3
    assert all(r["meta"]["arm"] == "worked_control" for r in records)
    assert len({r["meta"]["word"] for r in records[:3]}) == 1  # one word per triple
    count = records[1]
    assert count["meta"]["answer_mode"] == "worked" and count["meta"]["template_id"].endswith(".worked")
    assert count["output"].endswith(f"\nAnswer: {count['meta']['word'].count(count['meta']['letter'])}")
    assert all(r["output"] == expected_output(r["meta"], joiners) and schema_error(r) is None for r in records)

    path, eval_path = tmp_path / "worked.jsonl", tmp_path / "eval.jsonl"
    write_jsonl(eval_path, [{"meta": {"word": "absolutism"}}])
    bad = json.loads(json.dumps(records))
    bad[1]["output"] = bad[1]["output"].replace("(1)", "(2)", 1)  # a wrong running count
    old = bad[2]["meta"]["word"]  # the spelling made about a val/test word's sibling, consistent otherwise
    bad[2]["meta"] |= {"word": "absolutist", "length": 10}
    bad[2]["instruction"] = bad[2]["instruction"].replace(f"'{old}'", "'absolutist'")
    bad[2]["output"] = expected_output(bad[2]["meta"], joiners)
    write_jsonl(path, bad)
    report = Report()
    validate_control_arm(path, eval_path, 9, joiners, report, "worked_control", ("position", "count", "spelling"), 6)
    assert any(":2: wrong answer" in e for e in report.errors), report.errors
    assert any(":3: worked_control word 'absolutist' is a val/test word or a sibling of one" in e
               for e in report.errors), report.errors  # fmt: skip
    write_jsonl(path, records)
    clean = Report()
    validate_control_arm(path, eval_path, 9, joiners, clean, "worked_control", ("position", "count", "spelling"), 6)
    assert clean.errors == []
