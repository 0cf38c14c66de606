"""The data half of dvc.yaml, run by the real DVC in a temporary git repository on reduced parameters."""

import json

import pytest

from tests.conftest import data_project, run, set_params
from tests.test_pipeline_model import TINY

DATA_STAGES = ["extract_tokens", "generate", "validate", "split", "analyze"]
SPELLING = TINY["generate.spelling_tokens"]  # the data stages run once per session on these params (data_project)


def ran(output: str) -> list[str]:
    return [s for s in DATA_STAGES if f"Running stage '{s}'" in output]


@pytest.fixture(scope="module")
def repo(tmp_path_factory, shared_tmp):
    repo = data_project(tmp_path_factory.mktemp("pipeline"), TINY, shared_tmp)  # `dvc repro analyze`, every stage
    lock = json.loads(run(["dvc", "status", "--json", "--with-deps", "analyze"], repo).stdout)
    assert lock == {}, lock  # the copy is up to date: each data stage ran, with its outputs in the lock
    return repo


def test_repro_builds_loadable_splits(repo):
    from datasets import load_dataset

    from strawberry.records import hf_features

    assert json.loads(run(["dvc", "status", "--json", "--with-deps", "analyze"], repo).stdout) == {}
    files = {s: str(repo / f"data/splits/{s}.jsonl") for s in ("train", "val", "test")}
    splits = load_dataset("json", data_files=files, features=hf_features())
    assert splits["train"].num_rows == SPELLING
    assert set(splits["train"]["meta"][0]) >= {"task", "word", "separator", "template_id", "split"}
    assert {m["task"] for m in splits["train"]["meta"]} == {"spelling"}
    assert {m["task"] for m in splits["test"]["meta"]} == {"position", "count", "length"}
    val_words = {m["word"] for m in splits["val"]["meta"]}
    test_words = {m["word"] for m in splits["test"]["meta"]}
    assert val_words and test_words and not val_words & test_words
    data = json.loads((repo / "metrics/data.json").read_text())
    assert data["size"] == {"train": SPELLING, "val": splits["val"].num_rows, "test": splits["test"].num_rows}
    assert json.loads((repo / "metrics/validation.json").read_text())["valid"] is True
    shown = run(["dvc", "metrics", "show", "--json"], repo).stdout
    assert "metrics/data.json" not in shown  # data statistics are details (plots, data.json), not DVC metrics


def test_template_edit_reruns_generate_and_after_but_not_extract(repo):
    path = repo / "data/templates/length.yaml"
    path.write_text(path.read_text().replace("How many letters are in the word", "How many letters does the word"))
    path.write_text(path.read_text().replace("'{word}'? Answer with a number only.", "'{word}' have? Number only."))
    status = json.loads(run(["dvc", "status", "--json", "--with-deps", "analyze"], repo).stdout)
    assert set(status) == {"generate"}
    out = run(["dvc", "repro", "analyze"], repo).stdout
    assert ran(out) == ["generate", "validate", "split", "analyze"]
    assert "Stage 'extract_tokens' didn't change" in out
    assert "How many letters does the word" in (repo / "data/generated/eval.jsonl").read_text()


def test_analyze_param_reruns_analyze_alone(repo):
    set_params(repo, {"analyze.dpi": 72})
    assert set(json.loads(run(["dvc", "status", "--json", "--with-deps", "analyze"], repo).stdout)) == {"analyze"}
    assert ran(run(["dvc", "repro", "analyze"], repo).stdout) == ["analyze"]


def test_bad_template_stops_the_pipeline_naming_it(repo):
    path = repo / "data/templates/count.yaml"
    good = path.read_text()
    bad = """  - {id: count.bad, style: simple, instruction: "Is the {ordinal} letter of '{word}'?"}\n"""
    path.write_text(good + bad)
    proc = run(["dvc", "repro", "analyze"], repo, check=False)
    assert proc.returncode != 0
    assert "count.yaml: template count.bad needs {ordinal}" in proc.stderr + proc.stdout
    assert not (repo / "data/generated/eval.jsonl").exists()  # DVC removed the old outputs; nothing half-written
    path.write_text(good)


def test_bad_record_fails_validate_naming_it(repo):
    run(["dvc", "repro", "analyze"], repo)
    eval_path = repo / "data/generated/eval.jsonl"
    lines = eval_path.read_text().splitlines()
    record = json.loads(lines[6])
    record["output"] = "wrong"
    lines[6] = json.dumps(record)
    eval_path.chmod(0o644)
    eval_path.write_text("\n".join(lines) + "\n")
    proc = run(["python", "-m", "stages.validate"], repo, check=False)
    assert proc.returncode != 0
    assert "data/generated/eval.jsonl:7: wrong answer: output 'wrong'" in proc.stderr
    proc = run(["python", "-m", "stages.split"], repo, check=False)  # split refuses data that failed validation
    assert proc.returncode != 0 and "says the generated data is invalid" in proc.stderr
    report = json.loads((repo / "metrics/validation.json").read_text())
    assert report["valid"] is False and report["n_errors"] == 1
