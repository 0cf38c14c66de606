"""Stage validate: check every generated record; fail the pipeline naming file, line and reason."""

import json
import sys
from pathlib import Path

from strawberry.jsonl import read_jsonl, write_json
from strawberry.logs import get_logger
from strawberry.params import load_params
from strawberry.templates import load_separators
from strawberry.tokenizer import load_fast_tokenizer
from strawberry.validation import (
    control_problem,
    indexed_problem,
    validate,
    validate_control_arm,
    validate_coverage,
    validate_mirror,
    validate_piece_spelling,
)

REPORT_OUT = "metrics/validation.json"


def main() -> None:
    log = get_logger("validate")
    all_params = load_params()
    shown = all_params["validate"]["errors_shown"]
    tokenizer = load_fast_tokenizer(all_params["tokenizer"])
    joiners = {name: s.joiner for name, s in load_separators("data/templates").items()}
    report = validate(
        Path("data/generated/spelling.jsonl"),
        Path("data/generated/eval.jsonl"),
        read_jsonl("data/tokens/english_tokens.jsonl"),
        tokenizer,
        joiners,
        all_params["generate"]["count_weights"],  # the balance generate was asked for
        all_params["validate"]["letter_shortcut_margin"],
    )
    spelling = Path("data/generated/spelling.jsonl")
    validate_mirror(spelling, Path("data/generated/format_control.jsonl"), joiners, report, control_problem)
    validate_mirror(spelling, Path("data/generated/indexed.jsonl"), joiners, report, indexed_problem)
    prefix = all_params["generate"]["family_prefix"]
    controls = {"positive_control": ("position", "count"), "worked_control": ("position", "count", "spelling")}
    for arm, tasks in controls.items():
        validate_control_arm(Path(f"data/generated/{arm}.jsonl"), Path("data/generated/eval.jsonl"),
                             report.records[str(spelling)], joiners, report, arm, tasks, prefix)  # fmt: skip
    coverage = Path("data/generated/coverage.jsonl")
    english = {t["text"] for t in read_jsonl("data/tokens/english_tokens.jsonl")}
    validate_coverage(coverage, Path("data/generated/eval.jsonl"), english, joiners, report)
    validate_mirror(coverage, Path("data/generated/coverage_control.jsonl"), joiners, report, control_problem)
    halves = json.loads(Path("data/generated/piece_coverage.json").read_text())
    validate_piece_spelling(Path("data/generated/piece_spelling.jsonl"), Path("data/generated/eval.jsonl"), halves,
                            tokenizer, joiners, report)  # fmt: skip
    write_json(REPORT_OUT, report.as_json(shown))
    if report.errors:
        for error in report.errors[:shown]:
            log.error(error)
        sys.exit(f"validate: {len(report.errors)} bad record(s); first: {report.errors[0]} (report: {REPORT_OUT})")
    log.info("all %d records valid: %s", sum(report.records.values()), dict(report.tasks))


if __name__ == "__main__":
    main()
