"""One cell = one experiment of a grid, run as a pod or a SkyPilot job would run it: two cells at once in their own
clones of a bare git origin, against a real S3 server (moto) as the DVC remote, its bucket and endpoint given only by
environment variables (as a Kubernetes Secret gives them); one cell is killed mid-training and started again in a
fresh clone (a new pod) with the checkpoint folder kept; a third clone pulls and exports both. The deployment files
run the same command."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from scripts.study import parse_args
from strawberry.cells import INDEX_ENV, cell_command, cell_index, grid_cells, grid_spec
from tests.conftest import ROOT, VENV_BIN, data_project, run, set_params
from tests.s3server import BUCKET, CREDENTIALS, s3_server
from tests.test_pipeline_model import TINY

GRID = "grids/tiny.yaml"  # 4 cells: four arms at seed 1 on the tiny profile, written into the test's project
TINY_GRID = "name: tiny\nset: {model: tiny-qwen3}\ngrid:\n  train.arm: [spelling, indexed, positive_control, " \
            "format_control]\n  train.seed: [1]\n"
ARMS = ("spelling", "indexed", "positive_control", "format_control")
CELLS = [f"grid-tiny-tiny-qwen3-arm{arm}-seed1" for arm in ARMS]
JOB = ROOT / "deploy/k8s/study-job.yaml"
SKY_TASK = ROOT / "deploy/skypilot/study-cell.yaml"
SKY_PYTHON = ROOT / ".venv-sky/bin/python"  # SkyPilot pins uvicorn below LitServe's: its own venv (setup.sh)


def cell_env(s3_endpoint: str, home: Path, **extra: str) -> dict[str, str]:
    """What a pod has: the DVC remote's credentials and endpoint in the environment, no git identity, no config."""
    home.mkdir(exist_ok=True)
    (home / "gitconfig").write_text("")
    return {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1",
            "AWS_ENDPOINT_URL": s3_endpoint, "DVC_REMOTE_URL": f"s3://{BUCKET}/cells",
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "GIT_CONFIG_GLOBAL": str(home / "gitconfig"), **extra}  # fmt: skip


def start_cell(clone: Path, index: int, env: dict, log: Path | None) -> subprocess.Popen:
    command = cell_command(GRID)
    out = open(log, "w") if log else subprocess.PIPE  # noqa: SIM115 (closed by the child's exit)
    return subprocess.Popen(command, cwd=clone, env={**env, INDEX_ENV: str(index)}, stdout=out,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip


def clone(origin: Path, dest: Path) -> Path:
    run(["git", "clone", "-q", str(origin), str(dest)], dest.parent)  # what the Job's init container does
    run(["git", "checkout", "-q", "main"], dest)
    return dest


def remote_experiments(origin: Path) -> set[str]:
    refs = run(["git", "ls-remote", str(origin), "refs/exps/*"], origin).stdout.split()
    return {ref.rsplit("/", 1)[-1] for ref in refs if ref.startswith("refs/exps/")}


def test_two_cells_at_once_one_killed_and_restarted_then_pulled_and_reported(tmp_path, shared_tmp):
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    a = data_project(tmp_path / "a", {k: v for k, v in TINY.items() if k != "model"}, shared_tmp)
    (a / GRID).write_text(TINY_GRID)
    with s3_server() as s3:
        env = cell_env(s3.endpoint, tmp_path / "home")
        # Whoever starts the study: data stages once, code + lock to git, data to the DVC remote (the bucket the
        # environment names: the committed .dvc/config names the project's).
        for command in (["dvc", "remote", "modify", "--local", "storage", "url", env["DVC_REMOTE_URL"]],
                        ["dvc", "repro", "analyze"], ["git", "add", "-A"], ["git", "commit", "-qm", "tiny study"],
                        ["git", "push", "-q", str(origin), "HEAD:main"], ["dvc", "push"]):  # fmt: skip
            subprocess.run(command, cwd=a, env=env, check=True, capture_output=True, timeout=600)

        # Once, before the cells fan out: base's answers (and replies) for the grid's settings, to the run cache.
        prepared = subprocess.run(["python", "-m", "scripts.study", "prepare", "--grid", GRID], cwd=a, env=env,
                                  text=True, capture_output=True, timeout=900)  # fmt: skip
        assert prepared.returncode == 0 and "prepared 1 setting(s)" in prepared.stdout, prepared.stderr[-3000:]

        # Two pods at once: cell 0 runs through; cell 1 is killed after its first checkpoint (a spot preemption).
        kept = tmp_path / "checkpoints"  # the volume that outlives a pod
        first = start_cell(clone(origin, tmp_path / "b"), 0, env, tmp_path / "b.log")
        doomed = start_cell(clone(origin, tmp_path / "c"), 1, {**env, "STRAWBERRY_CHECKPOINTS": str(kept)}, None)
        seen = []
        for line in doomed.stdout:
            seen.append(line)
            if "checkpoint saved:" in line:  # after a progress bar on the same line
                os.killpg(doomed.pid, signal.SIGKILL)  # the whole pod: cell, dvc and the training stage
                break
        doomed.wait(timeout=60)
        assert doomed.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
        assert CELLS[1] not in remote_experiments(origin)

        assert first.wait(timeout=1200) == 0, (tmp_path / "b.log").read_text()[-4000:]
        # neither cell computed base's answers: they came from the run cache `prepare` pushed
        assert "Running stage 'evaluate_base'" not in (tmp_path / "b.log").read_text() + "".join(seen)

        # The engine starts cell 1 again: a new pod, a fresh clone, the same checkpoint volume.
        again = start_cell(clone(origin, tmp_path / "c2"), 1, {**env, "STRAWBERRY_CHECKPOINTS": str(kept)},
                           tmp_path / "c2.log")  # fmt: skip
        assert again.wait(timeout=1200) == 0, (tmp_path / "c2.log").read_text()[-4000:]
        resumed = (tmp_path / "c2.log").read_text()
        assert "resuming from" in resumed and "checkpoint-2" in resumed, resumed[-4000:]
        saved = re.findall(r"checkpoint saved: \S+/(checkpoint-\d+)", resumed)
        assert saved and saved[0] == "checkpoint-4", saved  # it went on after step 2, not from step 0
        assert "Running stage 'extract_tokens'" not in resumed  # the data came from the DVC remote
        # the base model's answers came from the run cache: computed once, by `prepare`
        assert "Running stage 'evaluate_base'" not in resumed, resumed[-4000:]
        assert set(CELLS[:2]) <= remote_experiments(origin)
        assert s3.object_count() > 0 and "-> s3://strawberry-spelling/cells" in resumed  # the bucket from the env

        # A finished cell started again exits at once and runs nothing.
        clock = time.monotonic()
        rerun = start_cell(tmp_path / "b", 0, env, tmp_path / "b2.log")
        assert rerun.wait(timeout=120) == 0
        log = (tmp_path / "b2.log").read_text()
        assert "already on origin" in log and "Running stage" not in log, log
        print(f"\nrerun of a finished cell: {time.monotonic() - clock:.1f} s")

        # A third clone fetches both from the remotes and exports them.
        d = clone(origin, tmp_path / "d")
        run(["dvc", "remote", "modify", "--local", "storage", "url", env["DVC_REMOTE_URL"]], d)
        pulled = subprocess.run(["python", "-m", "scripts.study", "pull", "--grid", GRID], cwd=d, env=env, text=True,
                                capture_output=True, timeout=600)  # fmt: skip
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
        assert f"not on origin yet: {CELLS[2]}, {CELLS[3]}" in pulled.stdout, pulled.stdout
        exports = {p.stem: json.loads(p.read_text()) for p in (d / "metrics/study").glob("grid-*.json")}
        assert set(exports) == set(CELLS[:2])
        assert {e["arm"] for e in exports.values()} == {"spelling", "indexed"}
        # each export says what ran: its grid, its profile and the settings the run resolved (the tiny test params)
        for e in exports.values():
            assert e["grid"] == "tiny" and e["profile"] == e["resolved"]["profile"] == "tiny-qwen3"
            assert (e["resolved"]["steps"], e["resolved"]["batch_size"]) == (TINY["train.max_steps"],
                                                                             TINY["train.batch_size"])  # fmt: skip
            assert e["resolved"]["learning_rate"] == TINY["train.learning_rate"] and e["resolved"]["lora_r"] > 0
            assert e["tuned"] and e["base"] and e["resolved"]["decoding"]["max_new_tokens"] > 0
        # what `precision: auto` became here, and each question's answer (the page's shortcut diagnostic reads it)
        assert all(e["precision"] in ("bf16-autocast", "fp32") for e in exports.values())
        assert all(e["resolved"]["precision"] == e["precision"] for e in exports.values())
        assert all(len(c["answer"]) == len(c["task"]) for e in exports.values() for c in e["tuned"].values())
        # ... and uses a pulled run as any experiment: compare it, bring its adapter into the workspace.
        diff = subprocess.run(["dvc", "metrics", "diff", "--all", "HEAD", CELLS[0]], cwd=d,
                              env=env, text=True, capture_output=True, check=True).stdout  # fmt: skip
        assert any("position.0shot.tuned" in line for line in diff.splitlines()), diff[-3000:]
        subprocess.run(["dvc", "exp", "apply", CELLS[0]], cwd=d, env=env, check=True, capture_output=True)

        # The smoke test before a paid study, as on a GPU machine: preflight, one cut-down calibration cell through
        # train and evaluate, its export, `dvc exp push` to the remotes.
        run(["git", "remote", "add", "origin", str(origin)], a)
        set_params(a, {"evaluate.questions_per_task": {"position": 6, "count": 6, "length": 0}})  # the grid sets each
        smoke = subprocess.run(["python", "-m", "scripts.study", "smoke", "--model", "tiny-qwen3"], cwd=a, env=env,
                               text=True, capture_output=True, timeout=900)  # fmt: skip
        assert smoke.returncode == 0, (smoke.stdout + smoke.stderr)[-4000:]
        assert "preflight: ready" in smoke.stdout and "every link works" in smoke.stdout, smoke.stdout[-3000:]
        name = re.search(r"smoke (smoke-tiny-qwen3-\S+): every link works", smoke.stdout).group(1)
        assert name in remote_experiments(origin)
        export = json.loads((a / "metrics/study" / f"{name}.json").read_text())
        assert export["grid"] == "smoke" and export["resolved"]["steps"] == 4 and export["profile"] == "tiny-qwen3"
        assert (d / "models/adapter/adapter_model.safetensors").is_file()
        assert json.loads((d / "metrics/eval.json").read_text())["profile"] == "tiny-qwen3"


def test_cell_index_comes_from_the_flag_or_the_environment(monkeypatch):
    monkeypatch.delenv(INDEX_ENV, raising=False)
    with pytest.raises(SystemExit, match="pass --index N or set CELL_INDEX"):
        cell_index(None, 13)
    monkeypatch.setenv(INDEX_ENV, "12")
    assert cell_index(None, 13) == 12 and cell_index(3, 13) == 3
    with pytest.raises(SystemExit, match="out of range: this plan has 13 cells"):
        cell_index(13, 13)
    monkeypatch.setenv(INDEX_ENV, "x")
    with pytest.raises(SystemExit, match="is not a whole number"):
        cell_index(None, 13)


def test_a_cell_already_exported_at_this_commit_does_not_run(tmp_path, monkeypatch, capsys):
    """A study run partly on this machine (`scripts.study run`) and partly as GPU jobs: a job whose cell's export is
    committed stops before it touches a remote (there is none here: running it would fail)."""
    from scripts.study import main

    grid = tmp_path / "g.yaml"
    grid.write_text("name: g\nset: {model: tiny-qwen3}\ngrid:\n  train.seed: [1, 2]\n")
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "metrics" / "study").mkdir(parents=True)
    (tmp_path / "metrics" / "study" / "grid-g-tiny-qwen3-seed1.json").write_text("{}")
    main(["cell", "--grid", str(grid), "--index", "0"])
    assert "cell grid-g-tiny-qwen3-seed1: already exported to metrics/study/grid-g-tiny-qwen3-seed1.json" in \
        capsys.readouterr().out
    with pytest.raises(SystemExit, match="dvc exp list .*no-such-remote"):  # not exported: it asks the remote
        main(["cell", "--grid", str(grid), "--index", "1", "--git-remote", str(tmp_path / "no-such-remote")])


def test_grid_file_gives_every_combination(tmp_path):
    grid = tmp_path / "g.yaml"
    grid.write_text("name: rank\nset: {model: qwen3-4b}\ngrid:\n  lora.r: [4, 8]\n  train.seed: [1, 2, 3]\n")
    cells = grid_cells(grid)
    assert len(cells) == 6 and cells[0].name == "grid-rank-qwen3-4b-r4-seed1"
    assert cells[-1].name == "grid-rank-qwen3-4b-r8-seed3"
    assert cells[1].overrides == ["model=qwen3-4b", "lora.r=4", "train.seed=2"]
    committed = grid_cells(ROOT / "grids/lora-rank.yaml")
    assert len({c.name for c in committed}) == len(committed) > 1
    grid.write_text("name: rank\ngrid:\n  lora.r: 4\n")
    with pytest.raises(SystemExit, match=r"g.yaml: grid key 'lora.r' needs a non-empty list"):
        grid_cells(grid)
    grid.write_text("name: rank\nset: [model]\ngrid:\n  lora.r: [4]\n")
    with pytest.raises(SystemExit, match=r"g.yaml: `set:` must be a mapping"):
        grid_cells(grid)


def test_grid_file_extends_another(tmp_path):
    base = "name: cal\nset: {model: tiny-qwen3, lora.r: 4, train.arm: a}\ngrid: {train.seed: [1]}\n"
    (tmp_path / "base.yaml").write_text(base)
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "seeds.yaml"
    child.write_text("extends: ../base.yaml\nset: {lora.r: 8, replay.records: 5}\ngrid:\n  train.arm: [a, b]\n")
    spec = grid_spec(child)
    assert spec["name"] == "cal"
    assert spec["set"] == {"model": "tiny-qwen3", "lora.r": 8, "train.arm": "a", "replay.records": 5}
    cells = grid_cells(child)  # the parent's grid is not inherited; a set key the grid varies is left to the grid
    assert [c.name for c in cells] == ["grid-cal-tiny-qwen3-arma", "grid-cal-tiny-qwen3-armb"]
    assert cells[1].overrides == ["model=tiny-qwen3", "lora.r=8", "replay.records=5", "train.arm=b"]
    child.write_text("name: own\nextends: ../nowhere.yaml\ngrid: {train.seed: [1]}\n")
    with pytest.raises(SystemExit, match=r"nowhere.yaml: cannot read the grid file"):
        grid_cells(child)
    (tmp_path / "base.yaml").write_text("name: cal\nextends: sub/seeds.yaml\ngrid: {train.seed: [1]}\n")
    child.write_text("extends: ../base.yaml\ngrid: {train.seed: [1]}\n")
    with pytest.raises(SystemExit, match=r"is a loop"):
        grid_cells(child)


def study_job() -> dict:
    return next(doc for doc in yaml.safe_load_all(JOB.read_text()) if doc["kind"] == "Job")


def job_container() -> dict:
    return next(c for c in study_job()["spec"]["template"]["spec"]["containers"] if c["name"] == "cell")


def test_the_job_and_the_skypilot_task_run_the_tested_cell_command():
    """The Job's container and the SkyPilot task run `python -m scripts.study cell` with arguments scripts.study
    accepts, the same in both, the index from $CELL_INDEX; the test above runs that command (cell_command)."""
    job = study_job()
    command = job_container()["command"]
    tested = cell_command("grids/v3-calibration-qwen3-4b.yaml")
    assert command == ["python", *tested[1:]], command
    args = parse_args(command[3:])
    assert args.command == "cell" and args.index is None  # from the environment
    env = {e["name"]: e for e in job_container()["env"]}
    assert (
        env[INDEX_ENV]["valueFrom"]["fieldRef"]["fieldPath"]
        == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    )
    # completions = the cells of that command's plan
    listed = subprocess.run(command[:3] + ["cells", *command[4:]], cwd=ROOT, capture_output=True, text=True,
                            check=True, env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"})  # fmt: skip
    assert job["spec"]["completions"] == len(listed.stdout.splitlines()) == 6
    assert job["spec"]["completionMode"] == "Indexed" and job["spec"]["backoffLimitPerIndex"] >= 1
    sky = yaml.safe_load(SKY_TASK.read_text())
    assert sky["run"].strip().splitlines()[-1] == " ".join(command), sky["run"]  # after `cd` into the clone
    assert {"DVC_REMOTE_URL", "AWS_ENDPOINT_URL"} <= set(sky["envs"])  # the bucket and endpoint from the job
    assert INDEX_ENV in sky["envs"] and sky["envs"]["STRAWBERRY_CHECKPOINTS"] in sky["file_mounts"]


def test_skypilot_loads_the_task_offline():
    """SkyPilot's own task loader (its schema check included) reads the task and resolves its resources."""
    code = ("import sky, sys; t = sky.Task.from_yaml(sys.argv[1]); r = next(iter(t.resources)); print(t.run.strip()); "
            "print(r.accelerators, r.use_spot, sorted(t.envs), sorted(t.storage_mounts))")  # fmt: skip
    out = subprocess.run([SKY_PYTHON, "-c", code, SKY_TASK], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    run_line, resources = out.stdout.strip().splitlines()[-2:]
    assert run_line == " ".join(job_container()["command"])
    assert resources.startswith("{'H100': 1} True") and INDEX_ENV in resources
    assert "['/checkpoints']" in resources


def test_a_grid_must_name_its_profile_and_win_over_its_sizes(tmp_path):
    """A study grid names its profile; a profile's GPU sizes that would beat a grid key are refused by name, and
    setting the profile's key to the grid's value too is accepted (the 4B grids do so)."""
    grid = tmp_path / "g.yaml"
    grid.write_text("name: g\ngrid: {train.seed: [1]}\n")
    with pytest.raises(SystemExit, match="names its profile: add `model: <profile>`"):
        grid_cells(grid)
    grid.write_text("name: g\nset: {model: qwen3-4b, train.max_steps: 80}\ngrid: {train.seed: [1]}\n")
    with pytest.raises(SystemExit, match=r"train.max_steps=80 is overridden by profile qwen3-4b's settings "
                                         r"\(profiles.qwen3-4b.settings.train.max_steps=852\)"):  # fmt: skip
        grid_cells(grid)
    grid.write_text("name: g\nset: {model: qwen3-4b, train.max_steps: 80, profiles.qwen3-4b.settings.train.max_steps: "
                    "80}\ngrid: {train.seed: [1]}\n")  # fmt: skip
    assert grid_cells(grid)[0].name == "grid-g-qwen3-4b-seed1"
    grid.write_text("name: g\nset: {model: nowhere}\ngrid: {train.seed: [1]}\n")
    with pytest.raises(SystemExit, match="model=nowhere is not a profile"):
        grid_cells(grid)
    for committed in sorted((ROOT / "grids").glob("*.yaml")):  # every committed grid passes the check
        assert grid_cells(committed)
