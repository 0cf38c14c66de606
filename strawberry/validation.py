"""validate's core: every record is checked against the schema and re-derived from its meta alone."""

import multiprocessing
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tokenizers import Tokenizer

from strawberry.jsonl import iter_jsonl
from strawberry.records import schema_error
from strawberry.splitting import family
from strawberry.tasks import EVAL_TASKS, count, expected_output, record_problem
from strawberry.tasks.common import letter_multiset
from strawberry.tokenizer import split_at, tokens_at


@dataclass
class Report:
    records: Counter = field(default_factory=Counter)  # per file
    tasks: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # "file:line: reason"

    def fail(self, path: Path, line: int, reason: str) -> None:
        self.errors.append(f"{path}:{line}: {reason}")

    def as_json(self, shown: int) -> dict:
        return {"valid": not self.errors, "records": dict(self.records), "tasks": dict(self.tasks),
                "n_errors": len(self.errors), "errors": self.errors[:shown]}  # fmt: skip


def schema_errors(records: list[dict]) -> list[str | None]:
    """Schema check of every record, on all cores for big files (jsonschema is pure Python)."""
    if len(records) < 5000 or (os.cpu_count() or 1) == 1:
        return [schema_error(r) for r in records]
    with multiprocessing.get_context("spawn").Pool() as pool:
        return pool.map(schema_error, records, chunksize=1000)


def check_record(
    record: dict, error: str | None, joiners: dict[str, str], allowed_tasks: tuple[str, ...]
) -> str | None:
    """The first thing wrong with one record on its own (given its schema error), or None."""
    if error:
        return f"breaks the schema {error}"
    meta = record["meta"]
    if meta["task"] not in allowed_tasks:
        return f"task {meta['task']!r} does not belong in this file (expected {', '.join(allowed_tasks)})"
    problem = record_problem(meta, joiners)
    if problem:
        return problem
    expected = expected_output(meta, joiners)
    if record["output"] != expected:
        return f"wrong answer: output {record['output']!r}, but meta says {expected!r} ({meta['template_id']})"
    if f"'{meta['word']}'" not in record["instruction"]:
        return f"instruction does not quote the word '{meta['word']}'"
    return None


def control_problem(true: dict, control: dict, joiners: dict[str, str]) -> str | None:
    """What is wrong with a format-control record, given the spelling record it mirrors, or None."""
    meta, true_meta = control["meta"], true["meta"]
    if meta["arm"] != "format_control":
        return f"meta.arm is {meta['arm']!r}, expected 'format_control'"
    for key in ("word", "separator", "direction", "template_id"):
        if meta[key] != true_meta[key]:
            return f"meta.{key} {meta[key]!r} does not mirror the spelling record ({true_meta[key]!r})"
    if control["instruction"] != true["instruction"]:
        return "instruction differs from the spelling record's"
    joiner = joiners[meta["separator"]]
    letters = control["output"].split(joiner) if joiner else list(control["output"])
    if len(letters) != len(meta["word"]) or not all(len(c) == 1 and c.isalpha() for c in letters):
        return f"output {control['output']!r} does not have the shape of a {len(meta['word'])}-letter spelling"
    if letter_multiset("".join(letters)) == letter_multiset(meta["word"]):
        return (f"output {control['output']!r} has the letters of the spelled token {meta['word']!r}: a "
                "format-control reply must carry nothing about the token (neither positions nor counts)")  # fmt: skip
    return None


def indexed_problem(true: dict, indexed: dict, joiners: dict[str, str]) -> str | None:
    """What is wrong with an indexed-arm record, given the spelling record it mirrors, or None."""
    meta = indexed["meta"]
    if meta["arm"] != "indexed":
        return f"meta.arm is {meta['arm']!r}, expected 'indexed'"
    if meta["word"] != true["meta"]["word"]:
        return f"meta.word {meta['word']!r} does not mirror the spelling record ({true['meta']['word']!r})"
    return check_record(indexed, None, joiners, ("indexed",))


def validate_mirror(spelling_path: Path, arm_path: Path, joiners: dict[str, str], report: Report,
                    problem: Callable[[dict, dict, dict[str, str]], str | None]) -> None:  # fmt: skip
    """An arm file that mirrors the spelling file line by line (format_control, indexed): as many records, each
    checked against the spelling record on its line by `problem`."""
    spelling = [r for _, r in iter_jsonl(spelling_path)]
    rows = list(iter_jsonl(arm_path))
    report.records[str(arm_path)] = len(rows)
    if len(rows) != len(spelling):
        report.fail(arm_path, len(rows), f"{len(rows)} records, but {spelling_path} has {len(spelling)}")
        return
    for (line, record), true, error in zip(rows, spelling, schema_errors([r for _, r in rows])):
        found = f"breaks the schema {error}" if error else problem(true, record, joiners)
        if found:
            report.fail(arm_path, line, found)


def validate_control_arm(path: Path, eval_path: Path, n_expected: int, joiners: dict[str, str], report: Report,
                         arm: str, tasks: tuple[str, ...], family_prefix: int | None) -> None:  # fmt: skip
    """A control arm about other words (positive_control: questions; worked_control: worked answers and
    spellings): right outputs, as many records as the spelling file, and no val/test word nor a sibling of one."""
    eval_families = {family(r["meta"]["word"], family_prefix) for _, r in iter_jsonl(eval_path)}
    rows = list(iter_jsonl(path))
    report.records[str(path)] = len(rows)
    if len(rows) != n_expected:
        report.fail(path, len(rows), f"{len(rows)} records, but the spelling file has {n_expected}")
    for (line, record), error in zip(rows, schema_errors([r for _, r in rows])):
        found = check_record(record, error, joiners, tasks)
        if not found and family(record["meta"]["word"], family_prefix) in eval_families:
            found = f"{arm} word {record['meta']['word']!r} is a val/test word or a sibling of one"
        if not found and record["meta"]["arm"] != arm:
            found = f"meta.arm is {record['meta']['arm']!r}, expected {arm!r}"
        if found:
            report.fail(path, line, found)


def validate_coverage(path: Path, eval_path: Path, english: set[str], joiners: dict[str, str],
                      report: Report) -> None:  # fmt: skip
    """The coverage set: spelling records (right outputs) of English tokens, none of which is a val/test word (the
    pieces of those words are spelled, the words never whole)."""
    eval_words = {r["meta"]["word"].lower() for _, r in iter_jsonl(eval_path)}
    rows = list(iter_jsonl(path))
    report.records[str(path)] = len(rows)
    for (line, record), error in zip(rows, schema_errors([r for _, r in rows])):
        found = check_record(record, error, joiners, ("spelling",))
        word = record["meta"]["word"]
        if not found and word.lower() in eval_words:
            found = f"coverage spells the val/test word {word!r} whole: only its pieces may be spelled"
        if not found and word not in english:
            found = f"coverage spells {word!r}, which is no English token of the vocabulary"
        if found:
            report.fail(path, line, found)


def quoted_span(record: dict) -> tuple[int, int]:
    """Where the record's word stands inside the quotes of its instruction (characters)."""
    start = record["instruction"].index(f"'{record['meta']['word']}'") + 1
    return start, start + len(record["meta"]["word"])


def validate_piece_spelling(path: Path, eval_path: Path, coverage: dict, tokenizer: Tokenizer,
                            joiners: dict[str, str], report: Report) -> None:  # fmt: skip
    """Study v4's piece spelling: numbered spellings (right outputs) of covered pieces only, never a val/test word
    whole, each piece the very token the questions show (the quoted piece tokenizes to the id it has inside the
    questions' words)."""
    questions = [r for _, r in iter_jsonl(eval_path)]
    eval_words = {r["meta"]["word"].lower() for r in questions}
    in_questions: dict[str, set[int]] = {}  # piece text -> its token id(s) inside the questions' quoted words
    for tokens in tokens_at(tokenizer, [r["instruction"] for r in questions], [quoted_span(r) for r in questions]):
        for token_id, text in tokens:
            in_questions.setdefault(text, set()).add(token_id)
    covered = set(coverage["covered"])
    rows = list(iter_jsonl(path))
    report.records[str(path)] = len(rows)
    checked = [(line, record, check_record(record, error, joiners, ("numbered",)))
               for (line, record), error in zip(rows, schema_errors([r for _, r in rows]))]  # fmt: skip
    spans = tokens_at(tokenizer, [r["instruction"] for _, r, found in checked if not found],
                      [quoted_span(r) for _, r, found in checked if not found])  # fmt: skip
    spans_of = iter(spans)
    for line, record, found in checked:
        piece = record["meta"]["word"]
        if not found:
            ids = [token_id for token_id, _ in next(spans_of)]
            if piece.lower() in eval_words:
                found = f"piece spelling spells the val/test word {piece!r} whole: only its pieces may be spelled"
            elif piece not in in_questions:
                found = f"{piece!r} is no piece of a val/test word as the questions quote it"
            elif piece.lower() not in covered:
                found = f"{piece!r} is an uncovered piece (data/generated/piece_coverage.json): never to be spelled"
            elif len(ids) != 1 or ids[0] not in in_questions[piece]:
                found = (f"the quoted piece {piece!r} tokenizes as {ids} here but as {sorted(in_questions[piece])} "
                         "inside the questions: it is not the token the questions show")  # fmt: skip
            elif record["meta"]["token_ids"] != ids:
                found = f"meta.token_ids {record['meta']['token_ids']} but the quoted piece is token {ids}"
        if found:
            report.fail(path, line, found)


def validate(
    spelling_path: Path,
    eval_path: Path,
    tokens: list[dict],
    tokenizer: Tokenizer,
    joiners: dict[str, str],
    count_weights: dict[str, float] | None = None,
    letter_margin: float | None = None,
) -> Report:
    report = Report()
    english = {t["text"] for t in tokens}
    spelled_lower = {t.lower() for t in english}

    for path, tasks in [(spelling_path, ("spelling",)), (eval_path, EVAL_TASKS)]:
        eval_rows = []  # (line, record) of eval records that passed the per-record checks
        rows = list(iter_jsonl(path))
        report.records[str(path)] = len(rows)
        for (line, record), error in zip(rows, schema_errors([r for _, r in rows])):
            error = check_record(record, error, joiners, tasks)
            if error:
                report.fail(path, line, error)
                continue
            meta = record["meta"]
            report.tasks[meta["task"]] += 1
            if meta["task"] == "spelling":
                if meta["word"] not in english:
                    report.fail(path, line, f"spelled word {meta['word']!r} is not in the English token subset")
                else:
                    spelled_lower.add(meta["word"].lower())
            else:
                eval_rows.append((line, record))
        _check_eval_words(path, eval_rows, spelled_lower, tokenizer, report)
        if count_weights and tasks == EVAL_TASKS:
            _check_count_balance(path, [r for _, r in eval_rows], count_weights, report)
        if letter_margin is not None and tasks == EVAL_TASKS:
            _check_letter_shortcut(path, [r for _, r in eval_rows if r["meta"]["task"] == "count"], letter_margin,
                                   report)  # fmt: skip
    return report


def _check_count_balance(path: Path, rows: list[dict], weights: dict[str, float], report: Report) -> None:
    """The true counts of the count questions follow generate.count_weights (exactly, up to rounding)."""
    realised = Counter(count.count_class(r["output"]) for r in rows if r["meta"]["task"] == "count")
    wanted = count.class_targets(sum(realised.values()), weights)
    off = {c: (realised[c], wanted[c]) for c in count.CLASSES if abs(realised[c] - wanted[c]) > 1}
    if off:
        detail = ", ".join(f"true count {c}: {got} questions, {want} expected" for c, (got, want) in off.items())
        report.errors.append(f"{path}: count questions are not balanced as generate.count_weights {weights} asks: "
                             f"{detail}")  # fmt: skip


def _check_letter_shortcut(path: Path, rows: list[dict], margin: float, report: Report) -> None:
    """The asked letter must not tell the true count: the rule "letter -> its most frequent count" scores on these
    questions at most `margin` above what it would with each letter's questions spread evenly over the classes."""
    if not rows:
        return
    rule, even = count.letter_shortcut(rows)
    if rule > even + margin:
        detail = "; ".join(f"'{letter}': {dict(sorted(c.items()))}" for letter, c in count.most_telling_letters(rows))
        report.errors.append(f"{path}: the asked letter predicts the true count: letter -> most frequent count scores "
                             f"{rule:.3f} on the count questions, {even:.3f} if each letter's were spread evenly "
                             f"(allowed: +{margin}); most telling letters: {detail} "
                             "(generate.count_letters)")  # fmt: skip


def _check_eval_words(path: Path, rows: list, spelled_lower: set[str], tokenizer: Tokenizer, report: Report) -> None:
    """Eval words never occur in training, and split into 2+ tokens in the prompt itself (one batch call)."""
    counts = split_at(tokenizer, [r["instruction"] for _, r in rows], [quoted_span(r) for _, r in rows])
    for (line, record), n_tokens in zip(rows, counts):
        meta = record["meta"]
        if meta["word"].lower() in spelled_lower:
            report.fail(path, line, f"eval word {meta['word']!r} leaks: it is a training (spelled) token")
        elif n_tokens < 2:
            report.fail(path, line, f"eval word {meta['word']!r} is a single token in its prompt")
        elif n_tokens != meta["n_tokens"]:
            report.fail(path, line, f"meta.n_tokens={meta['n_tokens']} but the prompt splits "
                                    f"{meta['word']!r} into {n_tokens} tokens")  # fmt: skip
