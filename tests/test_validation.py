import json
import random
from pathlib import Path

import pytest

from strawberry.extraction import eval_word_pool
from strawberry.generation import eval_records
from strawberry.jsonl import DataError, write_jsonl
from strawberry.tasks.count import pick_eval_words
from strawberry.tasks.spelling import records as spelling_records
from strawberry.templates import load_separators, load_templates
from strawberry.tokenizer import english_tokens
from strawberry.validation import validate

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"
BALANCE = {"0": 1, "1": 1, "2": 1}  # these six words have too few letters occurring 3+ times for a fourth class
WORDS = ["aardvark", "xylophonist", "quizzically", "bookkeeper", "zymurgy", "mnemonic"]


@pytest.fixture(scope="module")
def data(qwen3_tokenizer):
    """Real records from the real tokenizer, templates and words."""
    tokens = english_tokens(qwen3_tokenizer, dictionary=set())
    some = [t for t in tokens if t["text"] in {"straw", "berry", "ing", "The"}]
    templates = load_templates(TEMPLATES)
    separators = load_separators(TEMPLATES)
    spelling = spelling_records(some, templates["spelling"], separators, 3, {}, random.Random(0))
    pool = eval_word_pool(qwen3_tokenizer, WORDS, tokens, " '{word}'")
    questions = eval_records(pool, templates, {"position": 2, "count": 2, "length": 1}, BALANCE, random.Random(0))
    joiners = {name: s.joiner for name, s in separators.items()}
    return tokens, spelling, questions, joiners


def check(tmp_path, qwen3_tokenizer, data, spelling=None, questions=None):
    tokens, good_spelling, good_questions, joiners = data
    s_path, e_path = tmp_path / "spelling.jsonl", tmp_path / "eval.jsonl"
    write_jsonl(s_path, good_spelling if spelling is None else spelling)
    write_jsonl(e_path, good_questions if questions is None else questions)
    return validate(s_path, e_path, tokens, qwen3_tokenizer, joiners, BALANCE), s_path, e_path


def edited(records: list[dict], index: int, **changes) -> list[dict]:
    records = json.loads(json.dumps(records))
    record = records[index]
    for key, value in changes.items():
        if key.startswith("meta_"):
            record["meta"][key[5:]] = value
        elif value is None:
            del record[key]
        else:
            record[key] = value
    return records


def test_good_data_passes(tmp_path, qwen3_tokenizer, data):
    report, _, _ = check(tmp_path, qwen3_tokenizer, data)
    assert report.errors == []
    assert report.tasks["spelling"] == 12
    assert report.tasks["length"] == len({q["meta"]["word"] for q in data[2]}) >= 4


def test_schema_breaking_record_is_named(tmp_path, qwen3_tokenizer, data):
    spelling = edited(data[1], 4, output=None)
    report, s_path, _ = check(tmp_path, qwen3_tokenizer, data, spelling=spelling)
    assert report.errors == [f"{s_path}:5: breaks the schema at $: 'output' is a required property"]
    spelling = edited(data[1], 2, extra="x")
    report, s_path, _ = check(tmp_path, qwen3_tokenizer, data, spelling=spelling)
    assert report.errors[0].startswith(f"{s_path}:3: breaks the schema") and "'extra'" in report.errors[0]


def test_wrong_answer_is_named(tmp_path, qwen3_tokenizer, data):
    questions = data[2]
    i = next(i for i, q in enumerate(questions) if q["meta"]["task"] == "count")
    wrong = str(int(questions[i]["output"]) + 1)
    report, _, e_path = check(tmp_path, qwen3_tokenizer, data, questions=edited(questions, i, output=wrong))
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{e_path}:{i + 1}: wrong answer: output '{wrong}'")
    # A spelled output with one letter swapped is caught too.
    record = data[1][0]
    bad = record["output"][::-1] if record["meta"]["word"] != record["meta"]["word"][::-1] else "x"
    report, s_path, _ = check(tmp_path, qwen3_tokenizer, data, spelling=edited(data[1], 0, output=bad))
    assert report.errors[0].startswith(f"{s_path}:1: wrong answer")


def test_leaked_eval_word_is_named(tmp_path, qwen3_tokenizer, data):
    # An eval question about a word that is spelled in training ("berry" is a token).
    questions = edited(data[2], 0, instruction="What is the 1st letter of the word 'berry'? Answer.", output="b",
                       meta_word="berry", meta_letter="b", meta_position=1)  # fmt: skip
    report, _, e_path = check(tmp_path, qwen3_tokenizer, data, questions=questions)
    assert report.errors == [f"{e_path}:1: eval word 'berry' leaks: it is a training (spelled) token"]


def test_non_english_spelled_token_is_named(tmp_path, qwen3_tokenizer, data):
    spelling = edited(data[1], 1, instruction="Spell 'zzqx' with the letters separated by spaces.", output="z z q x",
                      meta_word="zzqx", meta_direction="forward", meta_separator="space")  # fmt: skip
    report, s_path, _ = check(tmp_path, qwen3_tokenizer, data, spelling=spelling)
    assert report.errors == [f"{s_path}:2: spelled word 'zzqx' is not in the English token subset"]


def test_single_token_eval_word_is_named(tmp_path, qwen3_tokenizer, data, monkeypatch):
    # "zymurgy" splits, but claim a word Qwen3 reads as one token in the prompt: "added" -> ' + added.
    i = next(i for i, q in enumerate(data[2]) if q["meta"]["task"] == "length")
    questions = edited(data[2], i, instruction="How many letters are in the word 'added'? Answer with a number only.",
                       output="5", meta_word="added", meta_length=5)  # fmt: skip
    tokens = [t for t in data[0] if t["text"].lower() != "added"]  # so only the token count can object
    report, _, e_path = check(tmp_path, qwen3_tokenizer, (tokens, *data[1:]), questions=questions)
    assert report.errors == [f"{e_path}:{i + 1}: eval word 'added' is a single token in its prompt"]


def test_task_in_wrong_file_and_bad_json(tmp_path, qwen3_tokenizer, data):
    report, _, e_path = check(tmp_path, qwen3_tokenizer, data, questions=data[1][:1])
    assert report.errors[0].startswith(f"{e_path}:1: task 'spelling' does not belong in this file")
    s_path = tmp_path / "spelling.jsonl"
    s_path.write_text('{"instruction": "x"}\n{not json\n')
    with pytest.raises(DataError, match=f"{s_path}:2: not valid JSON"):
        validate(s_path, tmp_path / "eval.jsonl", data[0], qwen3_tokenizer, data[3])


def test_skewed_count_balance_is_refused_naming_the_file(tmp_path, qwen3_tokenizer, data):
    questions = data[2]
    i = next(i for i, q in enumerate(questions) if q["meta"]["task"] == "count" and q["output"] == "0")
    j = next(j for j, q in enumerate(questions) if q["meta"]["task"] == "count" and q["output"] == "1"
             and j != i)  # fmt: skip
    skewed = [q for k, q in enumerate(questions) if k != i] + [
        questions[j]
    ]  # one 0 fewer, one 1 more: still valid rows
    report, _, e_path = check(tmp_path, qwen3_tokenizer, data, questions=skewed)
    assert len(report.errors) == 0  # within rounding (one question off)
    skewed = [q for q in questions if not (q["meta"]["task"] == "count" and q["output"] == "0")]
    report, _, e_path = check(tmp_path, qwen3_tokenizer, data, questions=skewed)
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{e_path}: count questions are not balanced as generate.count_weights "
                                       f"{BALANCE} asks: true count 0: 0 questions, ")  # fmt: skip


def test_count_questions_whose_letter_predicts_the_count_are_refused(tmp_path, qwen3_tokenizer):
    """Asked over every letter, true count 0 goes to letters the words lack (q, z, x, ...) and 2+ to common ones:
    the letter alone tells the count, and validate says so, naming letters. Over generate.count_letters, each
    class spread evenly, it passes."""
    from strawberry.words import load_word_list

    tokens = english_tokens(qwen3_tokenizer, dictionary=set())
    words = [w for w in load_word_list(ROOT / "data/raw/web2.txt") if w.islower() and 6 <= len(w) <= 14]
    pool = eval_word_pool(qwen3_tokenizer, random.Random(0).sample(words, 8000), tokens, " '{word}'")
    weights = {"0": 1, "1": 1, "2": 1, "3+": 1}
    templates = load_templates(TEMPLATES)
    joiners = {name: s.joiner for name, s in load_separators(TEMPLATES).items()}
    spelled = spelling_records([t for t in tokens if t["text"] == "straw"], templates["spelling"],
                               load_separators(TEMPLATES), 1, {}, random.Random(0))  # fmt: skip
    write_jsonl(tmp_path / "spelling.jsonl", spelled)
    for letters, refused in ((None, True), ("eiosantrl", False)):
        rng = random.Random(1)
        words = pick_eval_words(pool, 600, 2, weights, rng, letters)
        write_jsonl(tmp_path / "eval.jsonl", eval_records(words, templates, {"position": 0, "count": 2, "length": 0},
                                                          weights, rng, letters))  # fmt: skip
        report = validate(tmp_path / "spelling.jsonl", tmp_path / "eval.jsonl", tokens, qwen3_tokenizer, joiners,
                          weights, letter_margin=0.05)  # fmt: skip
        shortcut = [e for e in report.errors if "the asked letter predicts the true count" in e]
        assert bool(shortcut) == refused, (letters, report.errors[:3])
    assert not shortcut and not report.errors


def test_coverage_spells_pieces_of_half_the_words_and_never_a_whole_word(tmp_path, qwen3_tokenizer, data):
    """The coverage set (study v3): the real pieces of a random half of the eval words, each in 2 forms; validate
    passes it and its format control, and refuses a whole val/test word or a non-token, naming file and line."""
    from strawberry.generation import coverage_records
    from strawberry.tasks.spelling import format_control_records
    from strawberry.validation import Report, control_problem, validate_coverage, validate_mirror

    tokens, _, questions, joiners = data
    words = list({q["meta"]["word"]: {"word": q["meta"]["word"], "token_split": q["meta"]["token_split"]}
                  for q in questions}.values())  # fmt: skip
    templates, separators = load_templates(TEMPLATES), load_separators(TEMPLATES)
    records, covered = coverage_records(words, tokens, 0.5, 2, templates["spelling"], separators, {},
                                        random.Random(0))  # fmt: skip
    assert len(covered) == len(words) // 2
    pieces = {p for w in words if w["word"] in covered for p in w["token_split"] if len(p) > 1}
    assert {r["meta"]["word"] for r in records} == pieces
    assert len(records) == 2 * len(pieces)
    by_piece = {}
    for r in records:
        by_piece.setdefault(r["meta"]["word"], set()).add((r["meta"]["template_id"], r["meta"]["separator"]))
    assert all(len(forms) == 2 for forms in by_piece.values())  # two different forms of each piece
    assert not {r["meta"]["word"] for r in records} & {w["word"] for w in words}

    path, eval_path, control_path = tmp_path / "coverage.jsonl", tmp_path / "eval.jsonl", tmp_path / "control.jsonl"
    write_jsonl(eval_path, questions)
    write_jsonl(path, records)
    write_jsonl(control_path, format_control_records(records, joiners, random.Random(1)))
    english = {t["text"] for t in tokens}
    clean = Report()
    validate_coverage(path, eval_path, english, joiners, clean)
    validate_mirror(path, control_path, joiners, clean, control_problem)
    assert clean.errors == []

    whole = covered[0]
    bad = edited(records, 1, meta_word=whole, meta_length=len(whole),
                 instruction=records[1]["instruction"].replace(f"'{records[1]['meta']['word']}'", f"'{whole}'"))
    bad[1]["output"] = joiners[bad[1]["meta"]["separator"]].join(
        reversed(whole) if bad[1]["meta"]["direction"] == "reverse" else whole)
    write_jsonl(path, bad)
    report = Report()
    validate_coverage(path, eval_path, english, joiners, report)
    assert len(report.errors) == 1 and f"coverage.jsonl:2: coverage spells the val/test word {whole!r}" in \
        report.errors[0], report.errors  # fmt: skip


def test_piece_spelling_covers_half_the_pieces_in_the_worked_form_and_validate_checks_its_tokens(tmp_path,
                                                                                                 qwen3_tokenizer):
    """Study v4: a random half of the eval words' distinct pieces is covered, each spelled in two phrasings as the
    worked reply writes letters; validate passes it, and refuses (naming file and line) a val/test word spelled
    whole, an uncovered piece, and a piece quoted so that it is not the token the questions show."""
    from strawberry.generation import piece_coverage
    from strawberry.tasks import numbered
    from strawberry.tasks.common import letter_lines
    from strawberry.validation import Report, validate_piece_spelling

    tokens = english_tokens(qwen3_tokenizer, dictionary=set())
    pool = eval_word_pool(qwen3_tokenizer, [*WORDS, "stinkbug"], tokens, " '{word}'")
    templates, separators = load_templates(TEMPLATES), load_separators(TEMPLATES)
    joiners = {name: s.joiner for name, s in separators.items()}
    questions = eval_records(pool, templates, {"position": 2, "count": 2, "length": 1}, BALANCE, random.Random(0))
    keys = {p.lower() for w in pool for p in w["token_split"] if len(p) > 1}

    halves, pieces = piece_coverage(pool, 0.5, random.Random(0))
    assert set(halves["covered"]) | set(halves["uncovered"]) == keys
    assert not set(halves["covered"]) & set(halves["uncovered"]) and len(halves["covered"]) == round(len(keys) / 2)
    records = numbered.records(pieces, templates["numbered"], 2, random.Random(0))
    assert len(records) == 2 * len(pieces) and {r["meta"]["word"] for r in records} == set(halves["covered"])
    for r in records:  # the worked reply's own letter lines, nothing else
        assert r["output"].splitlines() == letter_lines(r["meta"]["word"]) and "Answer" not in r["output"]
    by_piece = {}
    for r in records:
        by_piece.setdefault(r["meta"]["word"], set()).add(r["meta"]["template_id"])
    assert all(len(forms) == 2 for forms in by_piece.values())

    def errors(records: list[dict], coverage: dict = halves) -> list[str]:
        path, eval_path = tmp_path / "piece_spelling.jsonl", tmp_path / "eval.jsonl"
        write_jsonl(eval_path, questions)
        write_jsonl(path, records)
        report = Report()
        validate_piece_spelling(path, eval_path, coverage, qwen3_tokenizer, joiners, report)
        return report.errors

    assert errors(records) == []

    ids = {p: i for w in pool for p, i in zip(w["token_split"], w["token_ids"])}

    def respelled(record: dict, word: str, instruction: str | None = None) -> dict:
        meta = {**record["meta"], "word": word, "length": len(word), "token_ids": [ids.get(word, 0)]}
        text = instruction or record["instruction"].replace(f"'{record['meta']['word']}'", f"'{word}'")
        return {**record, "instruction": text, "output": numbered.expected(meta, {}), "meta": meta}

    whole = respelled(records[1], "stinkbug")
    assert errors([records[0], whole]) == [f"{tmp_path}/piece_spelling.jsonl:2: piece spelling spells the val/test "
                                           "word 'stinkbug' whole: only its pieces may be spelled"]  # fmt: skip
    uncovered = respelled(records[0], halves["uncovered"][0])
    assert errors([uncovered])[0].endswith("is an uncovered piece (data/generated/piece_coverage.json): never to be "
                                           "spelled")  # fmt: skip
    # At the start of a text Qwen3 reads "'st" as "'s" + "t": quoted there, the piece 'st' of 'stinkbug' is no
    # longer the token the questions show
    everything = {"covered": sorted(keys), "uncovered": []}
    first = respelled(records[0], "st", "'st': spell it one letter per line, each after its number.")
    found = errors([first], everything)
    assert len(found) == 1 and ":1: the quoted piece 'st' tokenizes as" in found[0] and "inside the questions" in \
        found[0], found  # fmt: skip
    assert errors([respelled(records[0], "st")], everything) == []  # the same piece quoted after a space: its token
