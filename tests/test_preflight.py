"""What runs before a paid GPU trains (strawberry/preflight.py, strawberry/unsloth_first.py): Unsloth imported before
transformers/TRL/PEFT on the stage path, the pinned revision passed so Unsloth cannot swap it, the tokenizer's
vocabulary checked against the data's, the DVC remote probed, GPU-sized settings from the profile, versions."""

import subprocess
import sys
import textwrap

import pytest
import yaml

from strawberry.params import load_params
from strawberry.preflight import RemoteRefusedError, TokenizerMismatchError, check_remote, check_tokenizer, vocab_sha256
from strawberry.profiles import load_profile, stage_settings, unsloth_load_kwargs
from tests.conftest import ROOT, run
from tests.s3server import CREDENTIALS, s3_server

PARAMS = load_params(ROOT / "params.yaml")
STAGES = ("stages.train", "stages.evaluate", "stages.evaluate_base")
PATCHED = ("transformers", "trl", "peft", "datasets")

# A stand-in `unsloth` package: on import it writes down which libraries Unsloth would patch were already imported.
FAKE_UNSLOTH = """
import json, os, sys
with open(os.environ["UNSLOTH_RECORD"], "w") as f:
    json.dump(sorted(m for m in sys.modules if m.split(".")[0] in {patched!r}), f)
"""


@pytest.fixture
def project_with(tmp_path):
    """A folder holding params.yaml with the given model active, and a fake unsloth package on the path."""
    fake = tmp_path / "fake"
    (fake / "unsloth").mkdir(parents=True)
    (fake / "unsloth" / "__init__.py").write_text(FAKE_UNSLOTH.format(patched=set(PATCHED)))

    def make(model: str) -> tuple:
        work = tmp_path / model
        work.mkdir()
        (work / "params.yaml").write_text(yaml.safe_dump({**PARAMS, "model": model}, sort_keys=False))
        env = {"PYTHONPATH": f"{fake}:{ROOT}", "UNSLOTH_RECORD": str(work / "record.json")}
        return work, env

    return make


def python(args: list[str], cwd, env: dict) -> subprocess.CompletedProcess:
    return run([sys.executable, *args], cwd, check=False, env=env)


@pytest.mark.parametrize("stage", STAGES)
def test_stage_imports_unsloth_before_what_it_patches(project_with, stage):
    work, env = project_with("tiny-qwen3-unsloth")
    proc = python(["-c", f"import {stage}, sys; print(sorted(m for m in {PATCHED!r} if m in sys.modules))"], work,
                  env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (work / "record.json").read_text() == "[]"  # nothing Unsloth patches was imported before it
    if stage == "stages.train":
        assert "transformers" in proc.stdout  # ... and the stage did import them, after


def test_train_stage_imports_unsloth_first_then_stops_without_a_gpu(project_with):
    work, env = project_with("tiny-qwen3-unsloth")
    proc = python(["-m", "stages.train"], work, env)
    assert proc.returncode != 0 and "GpuRequiredError" in proc.stderr
    assert (work / "record.json").read_text() == "[]"


def test_cpu_profile_never_imports_unsloth(project_with):
    work, env = project_with("smollm2-135m")
    proc = python(["-c", "import stages.train"], work, env)
    assert proc.returncode == 0, proc.stderr
    assert not (work / "record.json").exists()


def test_import_order_error_when_transformers_came_first(project_with):
    work, env = project_with("tiny-qwen3-unsloth")
    code = textwrap.dedent("""
        import transformers
        import strawberry.unsloth_first
    """)
    proc = python(["-c", code], work, env)
    assert proc.returncode != 0 and "ImportOrderError: transformers imported before unsloth" in proc.stderr
    assert not (work / "record.json").exists()


@pytest.mark.parametrize("name", ["qwen3-4b", "tiny-qwen3-unsloth"])  # hub and random (qwen3-4b-arch: 8 GB to build)
def test_unsloth_loads_exactly_the_pinned_model(name):
    profile = load_profile({**PARAMS, "model": name})
    kwargs = unsloth_load_kwargs(profile)
    assert kwargs["use_exact_model_name"] is True  # never Unsloth's own pre-quantized mirror
    if profile.source == "hub":
        assert kwargs["model_name"] == "Qwen/Qwen3-4B"
        assert kwargs["revision"] == PARAMS["profiles"][name]["revision"] and len(kwargs["revision"]) == 40
        adapter = unsloth_load_kwargs(profile, adapter="models/adapter")
        assert adapter["model_name"] == "models/adapter" and adapter["revision"] == kwargs["revision"]
    else:
        assert "revision" not in kwargs


def test_pinned_vocabulary_is_the_data_tokenizers(qwen3_tokenizer):
    """Every profile that pins a vocabulary pins the one of the Qwen3 files the data stages read."""
    from strawberry.tokenizer import load_hf_tokenizer

    qwen3 = load_hf_tokenizer(PARAMS["tokenizer"])
    pinned = {name: p["vocab_sha256"] for name, p in PARAMS["profiles"].items() if p.get("vocab_sha256")}
    assert {"qwen3-4b", "qwen3-4b-peft", "tiny-qwen3"} <= set(pinned)
    assert set(pinned.values()) == {vocab_sha256(qwen3)}
    check_tokenizer(load_profile({**PARAMS, "model": "qwen3-4b"}), qwen3)  # passes


def test_another_tokenizer_is_refused_by_name():
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    other = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel({"straw": 0, "berry": 1, "<unk>": 2},
                                                                         unk_token="<unk>")),
                                    name_or_path="toy/other-tokenizer")  # fmt: skip
    profile = load_profile({**PARAMS, "model": "qwen3-4b"})
    with pytest.raises(TokenizerMismatchError, match=r"qwen3-4b: the tokenizer of Qwen/Qwen3-4B@1cfa9a7.*"
                                                     r"\(toy/other-tokenizer\) has vocabulary sha256"):
        check_tokenizer(profile, other)
    check_tokenizer(load_profile({**PARAMS, "model": "smollm2-135m"}), other)  # no pin: nothing to check


def test_gpu_profiles_carry_their_own_sizes():
    profile = load_profile({**PARAMS, "model": "qwen3-4b"})
    train = stage_settings(PARAMS, profile, "train")
    assert (train["batch_size"], train["max_steps"], train["eval_steps"]) == (64, 852, 213)
    assert train["batch_size"] * train["max_steps"] >= 54_508  # one epoch of the spelling records
    assert train["learning_rate"] == PARAMS["train"]["learning_rate"]  # the rest is the section's
    assert stage_settings(PARAMS, profile, "evaluate")["batch_size"] == 128
    cpu = load_profile(PARAMS)
    assert stage_settings(PARAMS, cpu, "train") == PARAMS["train"]
    bad = yaml.safe_load(yaml.safe_dump(PARAMS))
    bad["profiles"]["qwen3-4b"]["settings"]["train"]["batch_sise"] = 3
    with pytest.raises(ValueError, match=r"profiles.qwen3-4b.settings.train: batch_sise not in the train section"):
        stage_settings(bad, load_profile({**bad, "model": "qwen3-4b"}), "train")
    bad["profiles"]["qwen3-4b"]["settings"]["lora"] = {"r": 64}
    with pytest.raises(ValueError, match=r"profiles.qwen3-4b.settings: lora: a profile sizes only train, evaluate"):
        load_profile({**bad, "model": "qwen3-4b"})


def test_remote_probe_names_the_fix(tmp_path):
    with s3_server() as server:
        run(["git", "init", "-q"], tmp_path)
        run(["dvc", "init", "-q"], tmp_path)
        local = {"endpointurl": server.endpoint, "access_key_id": CREDENTIALS["aws_access_key_id"],
                 "secret_access_key": CREDENTIALS["aws_secret_access_key"]}  # fmt: skip
        for bucket in ("strawberry-spelling", "someone-elses-bucket"):
            run(["dvc", "remote", "add", "-f", "-d", "storage", f"s3://{bucket}/dvcstore"], tmp_path)
            for key, value in local.items():
                run(["dvc", "remote", "modify", "--local", "storage", key, value], tmp_path)
        with pytest.raises(RemoteRefusedError, match=r"'storage' \(s3://someone-elses-bucket/dvcstore\) refused a test "
                                                     r"write: .*dvc remote modify --local storage url s3://"):
            check_remote(str(tmp_path))
        run(["dvc", "remote", "modify", "storage", "url", "s3://strawberry-spelling/dvcstore"], tmp_path)
        assert check_remote(str(tmp_path)) == "storage (s3://strawberry-spelling/dvcstore)"
        assert server.object_count() == 0  # the probe cleans up after itself


def test_preflight_command_runs_every_check_and_names_failures(project_with):
    work, env = project_with("tiny-qwen3")
    ok = python(["-m", "scripts.preflight", "--no-remote"], work, env)
    assert ok.returncode == 0, ok.stderr
    assert "tokenizer: vocabulary sha256 8b271bf8aa17e314… matches the data's" in ok.stdout
    assert "versions: torch " in ok.stdout and "preflight: ready for `dvc exp run -S model=tiny-qwen3`" in ok.stdout
    if __import__("torch").cuda.is_available():
        return  # the refusal below is a CPU machine's
    gpu = python(["-m", "scripts.preflight", "--no-remote", "--model", "tiny-qwen3-unsloth"], work, env)
    assert gpu.returncode != 0 and "device: FAILED: profile 'tiny-qwen3-unsloth'" in gpu.stdout
    assert "revision: Unsloth loads exactly" in gpu.stdout and '"use_exact_model_name": true' in gpu.stdout
    assert "preflight: device failed" in gpu.stderr
