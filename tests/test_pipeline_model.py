"""train and evaluate with the tiny random Qwen3 profile, by the real DVC in a temporary git repository."""

import importlib.metadata
import json
import shutil
import sys

import pytest
import yaml

from strawberry.study.runs import runs
from strawberry.tasks.common import letter_multiset
from strawberry.templates import load_separators
from tests.conftest import data_project, run, set_params

TINY = {
    "generate.spelling_tokens": 300, "generate.eval_words": 120,
    # ~17 coverage records: arm D's pass is 2 steps at batch 16 (a step's logits over Qwen3's 151,936-token vocabulary
    # cost memory and time by the token: 86 records at batch 64 took 65 s a step)
    "generate.coverage_share": 0.02,
    "model": "tiny-qwen3", "train.max_steps": 4, "train.eval_steps": 2, "train.batch_size": 2,
    "train.val_questions": 3, "train.val_shots": 1, "train.logging_steps": 1, "train.warmup_steps": 0,
    "train.learning_rate": 0.05,  # 4 steps that change the tiny model's replies: base and tuned must differ
    "evaluate.questions_per_task": 6, "evaluate.shots": [0, 1], "evaluate.spell_first_shots": [1],
    "evaluate.shot_draws": 2,
}  # fmt: skip


@pytest.fixture(scope="module")
def repo(tmp_path_factory, shared_tmp):
    return data_project(tmp_path_factory.mktemp("model"), TINY, shared_tmp, "all")  # built once, copied


def lock_md5(repo, stage: str, path: str) -> str:
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return next(o["md5"] for o in lock["stages"][stage]["outs"] if o["path"] == path)


def test_repro_through_evaluate(repo):
    assert json.loads(run(["dvc", "status", "--json"], repo).stdout) == {}
    headline = json.loads((repo / "metrics/eval.json").read_text())
    details = json.loads((repo / "metrics/eval_details.json").read_text())
    assert headline["profile"] == details["profile"] == "tiny-qwen3"
    assert details["settings"] == ["0shot", "1shot", "spell_first_1shot"] and details["shot_draws"] == 2
    assert details["precision"] in ("bf16-autocast", "fp32")
    for task in ("position", "count", "length"):
        entry = details["test"][task]
        assert entry["strategy_baseline"]["accuracy"] == max(entry["strategies"].values())
        for setting in ("0shot", "1shot", "spell_first_1shot"):
            if task == "length" and setting.startswith("spell_first"):
                assert setting not in entry  # spell_first asks position and count only
                continue
            cell = entry[setting]
            assert cell["base"]["n"] == cell["tuned"]["n"] == 6
            assert 0 <= cell["base"]["ci_low"] <= cell["base"]["accuracy"] <= cell["base"]["ci_high"] <= 1
            assert 0 <= cell["mcnemar_p"] <= 1
            assert {"accuracy", "strict_accuracy", "format_rate"} <= set(cell["tuned"])
            if task == "length":
                continue
            row = headline[task][setting]
            assert row["tuned"] == cell["tuned"]["accuracy"] and row["tuned_hard"] == cell["hard"]["tuned"]["accuracy"]
            assert row["strategy"] == entry["strategy_baseline"]["accuracy"]
            assert row["tuned_strict"] == cell["tuned"]["strict_accuracy"]
            for m in ("base", "tuned"):  # strict and lenient per class, base and tuned
                assert all({"accuracy", "strict_accuracy"} <= set(c[m]) for c in cell["by_class"].values())
            assert sum(c["tuned"]["n"] for c in cell["by_template"].values()) == 6
    assert "length" not in headline  # a side task: details only
    # constant answers, and the letter-only rules fitted on val
    assert set(details["test"]["count"]["strategies"]) == {"always_1", "always_0", "majority", "letter_rule"}
    assert set(details["test"]["position"]["strategies"]) == {"first_letter", "last_letter", "random_letter",
                                                               "letter_by_length_and_position"}  # fmt: skip
    assert set(details["test"]["count"]["0shot"]["by_class"]) == {"0", "1", "2", "3+"}
    assert set(details["test"]["position"]["0shot"]["by_class"]) == {"first", "middle", "last"}
    confusion = details["test"]["count"]["spell_first_1shot"]["confusion"]["tuned"]
    assert set(confusion) == {"0", "1", "2", "3+"} and sum(map(sum, (r.values() for r in confusion.values()))) == 6
    spell_first_ids = {t for t in details["test"]["count"]["spell_first_1shot"]["by_template"]}
    assert spell_first_ids and all(t.endswith(".spell_first") for t in spell_first_ids)
    assert "spelling" not in details["test"]  # spelling is never an evaluation task
    predictions = [json.loads(line) for line in (repo / "eval/predictions.jsonl").read_text().splitlines()]
    test_predictions = [p for p in predictions if p["set"] == "test"]
    assert len(test_predictions) == (3 * 6 * 2 + 2 * 6) * 2  # (tasks x questions x direct shots + spell_first) x models
    spelled = [p for p in test_predictions if p["mode"] == "spell_first"]
    assert spelled and all(p["meta"]["template_id"].endswith(".spell_first") for p in spelled)
    assert all("letter by letter" in p["question"] or "pell" in p["question"] for p in spelled)  # asks to spell
    assert {p["draw"] for p in test_predictions if p["shots"] == 1} == {0, 1}  # two draws of worked examples
    assert {p["set"] for p in predictions} == {"test", "classic"}  # the extra question file, reported apart
    assert details["classic"]["count"]["0shot"]["base"]["n"] == 10
    assert {"question", "expected", "reply", "strict", "lenient", "correct"} <= set(predictions[0])
    adapter = repo / "models/adapter"
    assert (adapter / "adapter_config.json").is_file() and (adapter / "generation_config.json").is_file()
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 8
    assert (repo / "dvclive/train/plots/metrics/loss.tsv").is_file()  # the training curves (dvc plots show)
    curve = json.loads((repo / "metrics/val_curve.json").read_text())
    assert [row["step"] for row in curve] == [2, 4] and all(0 <= row["val_accuracy"] <= 1 for row in curve)
    summary = json.loads((repo / "metrics/train.json").read_text())
    assert summary["steps"] == 4 and summary["best_step"] in (2, 4) and 0 <= summary["best_val_accuracy"] <= 1
    # the software each run used, so that a cloud row and a local row tell apart in `dvc exp show`
    installed = {name: importlib.metadata.version(name) for name in ("torch", "transformers", "trl", "peft")}
    assert {k: summary["versions"][k] for k in installed} == installed == {k: details["versions"][k] for k in installed}
    assert summary["versions"]["unsloth"] is None and summary["versions"]["gpu"] is None  # never on a CPU machine
    for plot in ("by_word_length", "by_class", "by_template", "count_confusion"):
        assert (repo / f"plots/eval/{plot}.png").stat().st_size > 1000, plot
    assert not (repo / "models/checkpoints").exists() or not any((repo / "models/checkpoints").iterdir())


def test_rerun_on_the_same_machine_gives_identical_metrics(repo):
    """The model stages rerun from scratch (training included) give byte-identical metrics and predictions: on one
    machine the run is deterministic, so a difference in `dvc metrics diff` between machines is the machines'."""
    files = ["metrics/eval.json", "metrics/eval_details.json", "metrics/train.json", "eval/predictions.jsonl"]
    before = {f: (repo / f).read_bytes() for f in files}
    out = run(["dvc", "repro", "--force", "--single-item", "evaluate_base", "train", "evaluate"], repo, timeout=900)
    assert "Running stage 'train'" in out.stdout and "Running stage 'evaluate'" in out.stdout
    assert {f: (repo / f).read_bytes() for f in files} == before
    assert json.loads(run(["dvc", "status", "--json"], repo).stdout) == {}


def test_a_finished_training_is_restored_from_the_run_cache(repo):
    """Train's uncached outputs are metrics and plots, which DVC's run cache accepts: the same params and inputs
    again (an experiment lost while evaluating, rerun) restore the adapter instead of training a second time."""
    lock = (repo / "dvc.lock").read_text()
    files = ["metrics/train.json", "metrics/val_curve.json", "models/adapter/adapter_model.safetensors",
             "dvclive/train/plots/metrics/loss.tsv"]  # fmt: skip
    before = {f: (repo / f).read_bytes() for f in files}
    shutil.rmtree(repo / "models/adapter")
    (repo / "metrics/train.json").unlink()
    forgotten = yaml.safe_load(lock)
    del forgotten["stages"]["train"]  # as in a new experiment: no lock entry says train is done
    (repo / "dvc.lock").write_text(yaml.safe_dump(forgotten, sort_keys=False))
    out = run(["dvc", "repro", "--single-item", "train"], repo).stdout
    assert "Stage 'train' is cached - skipping run" in out and "Running stage" not in out, out[-2000:]
    assert {f: (repo / f).read_bytes() for f in files} == before
    assert yaml.safe_load((repo / "dvc.lock").read_text()) == yaml.safe_load(lock)
    (repo / "dvc.lock").write_text(lock)
    assert json.loads(run(["dvc", "status", "--json"], repo).stdout) == {}


def test_a_run_cut_off_between_evaluations_resumes_to_the_same_adapter(repo, tmp_path, monkeypatch):
    """With $STRAWBERRY_RESUME_EVERY (scripts.study sets it) train keeps a checkpoint every few steps between val
    evaluations: a run cut off there resumes from it and ends on the adapter an unbroken run ends on, so saving
    changes nothing and a session's end costs at most those steps."""
    from transformers import TrainerCallback

    from stages import train as train_stage
    from strawberry.params import load_params
    from strawberry.training import last_complete_checkpoint

    class CutOff(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                raise KeyboardInterrupt("cut off at step 3")

    class Steps(TrainerCallback):
        taken: list[int] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.taken.append(state.global_step)

    for folder in ("data/splits", "data/templates", "data/benchmarks"):
        shutil.copytree(repo / folder, tmp_path / folder)
    shutil.copy(repo / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    set_params(tmp_path, {"train.max_steps": 6, "train.eval_steps": 6, "train.patience": 6})  # validated at the end
    adapter = tmp_path / "models/adapter/adapter_model.safetensors"
    train_stage.run(load_params(), log_to_dvclive=False)
    unbroken = adapter.read_bytes()

    monkeypatch.setenv("STRAWBERRY_RESUME_EVERY", "2")
    with pytest.raises(KeyboardInterrupt):
        train_stage.run(load_params(), log_to_dvclive=False, callbacks=[CutOff()])
    (folder,) = (tmp_path / "models/checkpoints").iterdir()
    assert last_complete_checkpoint(folder) == str(folder / "checkpoint-2")
    trainer = train_stage.run(load_params(), log_to_dvclive=False, callbacks=[Steps()])
    assert Steps.taken == [3, 4, 5, 6]  # resumed after step 2, not from step 0
    assert trainer.state.global_step == 6 and not folder.exists()  # finished: its checkpoints are removed
    assert adapter.read_bytes() == unbroken


def test_each_model_is_scored_on_its_own_replies(repo):
    """The base numbers come from evaluate_base's replies (eval/base_predictions.jsonl), the tuned ones from the
    adapter's (eval/predictions.jsonl, model "tuned"): recomputed here cell by cell, so that base and tuned swapped
    anywhere between the two stages and the details would fail."""
    from strawberry.scoring import accuracy

    details = json.loads((repo / "metrics/eval_details.json").read_text())
    read = lambda path: [json.loads(line) for line in (repo / path).read_text().splitlines()]  # noqa: E731
    replies = {"base": read("eval/base_predictions.jsonl"),
               "tuned": [r for r in read("eval/predictions.jsonl") if r["model"] == "tuned"]}  # fmt: skip
    assert [r for r in read("eval/predictions.jsonl") if r["model"] == "base"] == replies["base"]
    differs = False
    for task in ("position", "count", "length"):
        for setting in details["settings"]:
            if setting not in details["test"][task]:
                continue
            cell = details["test"][task][setting]
            for model, rows in replies.items():
                mine = [r for r in rows if r["set"] == "test" and r["setting"] == setting and r["meta"]["task"] == task]
                assert cell[model] == accuracy(mine), (task, setting, model)
            differs |= cell["base"] != cell["tuned"]
    assert differs, "base and tuned score alike everywhere: this run cannot tell a swap"


def test_every_arm_has_training_data_of_the_same_size(repo):
    sizes = {}
    for arm, path in {"spelling": "train", "indexed": "train_indexed", "format_control": "train_format_control",
                      "positive_control": "train_positive_control",
                      "worked_control": "train_worked_control"}.items():  # fmt: skip
        records = [json.loads(line) for line in (repo / f"data/splits/{path}.jsonl").read_text().splitlines()]
        sizes[arm] = len(records)
        assert {r["meta"]["arm"] for r in records} == {arm}, arm
    assert len(set(sizes.values())) == 1, sizes
    eval_words = {json.loads(line)["meta"]["word"] for name in ("val", "test")
                  for line in (repo / f"data/splits/{name}.jsonl").read_text().splitlines()}  # fmt: skip
    positive = [json.loads(line) for line in (repo / "data/splits/train_positive_control.jsonl").open()]
    assert {r["meta"]["task"] for r in positive} == {"position", "count"}
    assert not {r["meta"]["word"] for r in positive} & eval_words  # never a val/test word
    worked = [json.loads(line) for line in (repo / "data/splits/train_worked_control.jsonl").open()]
    assert {r["meta"]["task"] for r in worked} == {"position", "count", "spelling"}
    assert not {r["meta"]["word"][:6] for r in worked} & {w[:6] for w in eval_words}  # nor a sibling of one
    assert all(r["output"].splitlines()[-1].startswith("Answer: ") for r in worked if r["meta"]["task"] != "spelling")
    joiners = {n: s.joiner for n, s in load_separators(repo / "data/templates").items()}
    for record in map(json.loads, (repo / "data/splits/train_format_control.jsonl").open()):
        joiner = joiners[record["meta"]["separator"]]
        letters = record["output"].split(joiner) if joiner else list(record["output"])
        assert letter_multiset("".join(letters)) != letter_multiset(record["meta"]["word"]), record
    indexed = json.loads((repo / "data/splits/train_indexed.jsonl").read_text().splitlines()[0])
    assert indexed["output"].startswith("1: ") or indexed["meta"]["direction"] == "reverse"


def metric_numbers(node) -> int:
    if isinstance(node, dict):
        return sum(metric_numbers(v) for v in node.values())
    return isinstance(node, (int, float)) and not isinstance(node, bool)


def test_exp_show_lists_the_headline_only(repo):
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    metrics = shown[0]["data"]["metrics"]
    assert set(metrics) == {"metrics/eval.json", "metrics/train.json"}
    assert metric_numbers({k: v["data"] for k, v in metrics.items()}) <= 40


@pytest.mark.parametrize("profile", ["smollm2-135m", "qwen25-coder-05b"])
def test_model_switch_reruns_train_and_evaluate_only(repo, profile):
    set_params(repo, {"model": profile})
    status = json.loads(run(["dvc", "status", "--json"], repo).stdout)
    assert set(status) == {"replay", "train", "evaluate_base", "evaluate"}  # replay: instant at 0 records
    run(["git", "checkout", "params.yaml"], repo)


def test_editing_an_inactive_profile_reruns_nothing(repo):
    set_params(repo, {"profiles.qwen25-coder-05b.generation": {"do_sample": False, "max_new_tokens": 8}})
    assert json.loads(run(["dvc", "status", "--json"], repo).stdout) == {}
    run(["git", "checkout", "params.yaml"], repo)


def test_arm_switch_reruns_train_only_directly(repo):
    set_params(repo, {"train.arm": "format_control"})
    # Only train reads train.arm (evaluate follows once the adapter changes); no data stage reruns.
    assert set(json.loads(run(["dvc", "status", "--json"], repo).stdout)) == {"train"}
    set_params(repo, {"train.arm": "nonsense"})
    proc = run([sys.executable, "-m", "stages.train"], repo, check=False)
    arms = "spelling, indexed, format_control, positive_control"
    assert proc.returncode != 0 and f"train.arm='nonsense': choose one of {arms}" in proc.stderr
    run(["git", "checkout", "params.yaml"], repo)


def test_runs_leaves_out_an_experiment_killed_mid_run():
    # The shape `dvc exp show --json` gave for a study whose session ended during study-spelling-s2: the killed
    # run lists the workspace's rev and metrics. Counting it as finished made the study export the workspace.
    def row(rev: str, data_rev: str) -> dict:
        return {"rev": rev, "data": {"rev": data_rev, "metrics": {"metrics/eval.json": {"data": {"a": 1}}},
                                     "params": {"params.yaml": {"data": {"b": 2}}}}}  # fmt: skip

    killed, finished = row("e700ada", "workspace"), row("eb45f37", "eb45f37")
    experiments = [{"name": "study-spelling-s2", "revs": [killed]}, {"name": "study-spelling-s1", "revs": [finished]}]
    commit = row("4530d6c", "4530d6c") | {"experiments": experiments}
    shown = runs([row("workspace", "workspace"), commit])
    assert [(r["name"], r["rev"]) for r in shown] == [("4530d6c", "4530d6c"), ("study-spelling-s1", "eb45f37")]


def test_report_takes_numbers_from_metrics(repo, tmp_path):
    out = tmp_path / "results.md"
    run([sys.executable, "-m", "scripts.report", "--out", str(out)], repo)
    text = out.read_text()
    e = json.loads((repo / "metrics/eval_details.json").read_text())["test"]["position"]["0shot"]
    assert (
        f"| position | 0 | {e['base']['accuracy']:.3f} [{e['base']['ci_low']:.3f}, {e['base']['ci_high']:.3f}]" in text
    )
    assert "## Question set `classic`" in text and "by_word_length.png" in text
    assert "Some wrong answers of the tuned model" in text
