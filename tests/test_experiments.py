"""Experiments on the tiny profile through the real DVC, in a copy of the pipeline the session built once
(tests/conftest.py: data_project): one experiment against the workspace, a seed queue, publishing and asking."""

import json
import subprocess
import sys
import time

import pytest

from strawberry.study.runs import runs
from tests.conftest import data_project, run
from tests.test_pipeline_model import TINY, lock_md5


@pytest.fixture(scope="module")
def repo(tmp_path_factory, shared_tmp):
    return data_project(tmp_path_factory.mktemp("experiments"), TINY, shared_tmp, "all")


def test_exp_run_and_compare(repo):
    base_hash = lock_md5(repo, "evaluate_base", "eval/base_predictions.jsonl")
    out = run(["dvc", "exp", "run", "-S", "lora.r=4", "-n", "r4"], repo, timeout=900).stdout
    # The base model's answers depend on no training setting: the experiment reuses them.
    assert "Running stage 'evaluate_base'" not in out and "Running stage 'evaluate'" in out, out[-2000:]
    assert lock_md5(repo, "evaluate_base", "eval/base_predictions.jsonl") == base_hash
    # exp show's row for r4 carries the experiment's own parameter and exactly the metrics it wrote
    shown = {r["name"]: r for r in runs(json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout))}
    assert shown["r4"]["params"]["lora.r"] == 4 and shown[next(n for n in shown if n != "r4")]["params"]["lora.r"] == 8
    eval_json = json.loads((repo / "metrics/eval.json").read_text())
    assert shown["r4"]["metrics"]["position.0shot.tuned"] == eval_json["position"]["0shot"]["tuned"]
    details = json.loads((repo / "metrics/eval_details.json").read_text())
    assert json.loads((repo / "models/adapter/adapter_config.json").read_text())["r"] == 4
    assert details["test"]["position"]["0shot"]["tuned"]["n"] == 6
    assert details["precision"] in ("bf16-autocast", "fp32")
    # metrics diff against the committed run: the base answers are the same, so their diff is 0
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", "--all", "--json"], repo).stdout)["metrics/eval.json"]
    assert diff["position.0shot.base"]["diff"] == 0
    assert diff["position.0shot.tuned"]["new"] == eval_json["position"]["0shot"]["tuned"]


def test_queue_two_experiments(repo):
    # seed 42 is params.yaml's own: when test_exp_run_and_compare's r4 ran first, DVC's run cache restores q-seed42
    # instead of training it again (a queued run shares the repo's cache); it counts as a run all the same
    for seed in (42, 2):
        run(["dvc", "exp", "run", "--queue", "-S", "lora.r=4", "-S", f"train.seed={seed}", "-n", f"q-seed{seed}"],
            repo)  # fmt: skip
    run(["dvc", "queue", "start", "-j", "1"], repo)
    deadline = time.monotonic() + 900
    while True:
        status = run(["dvc", "queue", "status"], repo).stdout
        if "Queued" not in status and "Running" not in status:
            break
        assert time.monotonic() < deadline, status
        time.sleep(5)
    assert "Failed" not in status, run(["dvc", "queue", "logs", "q-seed2"], repo, check=False).stdout
    rows = [r for r in runs(json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)) if r["name"] in
            ("q-seed42", "q-seed2")]  # fmt: skip
    assert len(rows) == 2 and all("position.0shot.tuned" in r["metrics"] for r in rows)
    seeds = {r["name"]: r["params"]["train.seed"] for r in rows}
    assert (seeds["q-seed42"], seeds["q-seed2"]) == (42, 2)


def test_publish_dry_run_cards_and_dataset(repo, tmp_path):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard, ModelCard

    out = tmp_path / "publish"
    run([sys.executable, "-m", "scripts.publish", "--out", str(out)], repo)
    card = ModelCard.load(out / "model" / "README.md")
    assert card.data.base_model == "random tiny-qwen3" and card.data.library_name == "peft"
    assert {"language", "license", "datasets", "tags", "model-index"} <= set(card.data.to_dict())
    metrics = json.loads((repo / "metrics/eval_details.json").read_text())["test"]
    results = {r.metric_name: r.metric_value for r in card.data.eval_results}
    for task in ("position", "count"):
        for arm in ("base", "tuned"):
            assert results[f"{arm} 0shot {task} accuracy"] == metrics[task]["0shot"][arm]["accuracy"]
    assert "non-thinking" in card.text and "Spelling is training data only" in card.text
    versions = json.loads((repo / "metrics/train.json").read_text())["versions"]
    assert f"transformers {versions['transformers']}, trl {versions['trl']}" in card.text  # the training run's software
    assert (out / "model" / "adapter_model.safetensors").is_file()
    DatasetCard.load(out / "dataset" / "README.md")
    splits = load_dataset(str(out / "dataset"))
    assert set(splits) == {"train", "train_format_control", "val", "test"}
    assert splits["test"].num_rows == json.loads((repo / "metrics/data.json").read_text())["size"]["test"]


def test_publish_upload_without_token_fails_clearly(repo, tmp_path):
    env_token = subprocess.os.environ.pop("HF_TOKEN", None)
    try:
        proc = run([sys.executable, "-m", "scripts.publish", "--out", str(tmp_path / "p"), "--upload",
                    "--repo-id", "someone/strawberry"], repo, check=False)  # fmt: skip
    finally:
        if env_token:
            subprocess.os.environ["HF_TOKEN"] = env_token
    assert proc.returncode != 0 and "--upload needs a Hugging Face token in HF_TOKEN" in proc.stderr
    assert "nothing was uploaded" in proc.stderr


def test_ask_command(repo):
    out = run([sys.executable, "-m", "scripts.ask", "How many times does the letter 'r' appear in 'strawberry'?"],
              repo).stdout  # fmt: skip
    assert out.startswith("answer (count, tuned tiny-qwen3): ") and "raw reply: " in out
    out = run([sys.executable, "-m", "scripts.ask", "--base", "What is the 3rd letter of 'added'?"], repo).stdout
    assert out.startswith("answer (position, base tiny-qwen3): ")


