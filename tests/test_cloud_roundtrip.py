"""The cloud round trip on one machine: clone A prepares data, clone B (the "GPU machine") trains, A gets it back.

A bare git repository plays `origin` and moto's S3 server the DVC remote. The commands are those of
docs/cloud.md, with the tiny profile in place of qwen3-4b.
"""

import json
import time

from tests.conftest import copy_project, run, set_params
from tests.s3server import s3_server
from tests.test_pipeline_model import TINY
from tests.test_remote import use_remote

DATA_STAGES = ("extract_tokens", "generate", "validate", "split", "analyze")


def test_cloud_round_trip(tmp_path):
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    a = copy_project(tmp_path / "a")
    set_params(a, {k: v for k, v in TINY.items() if k != "model"})
    legs: dict[str, float] = {}
    clock = time.monotonic()

    def leg(name: str) -> None:
        nonlocal clock
        legs[name] = time.monotonic() - clock
        clock = time.monotonic()

    with s3_server() as s3:
        # Machine A: build the data stages, share code + lock through git and data through the DVC remote.
        use_remote(a, s3.endpoint)
        run(["dvc", "repro", "analyze"], a, timeout=600)
        run(["git", "add", "-A"], a)
        run(["git", "commit", "-qm", "data stages"], a)
        run(["git", "remote", "add", "origin", str(origin)], a)
        run(["git", "push", "-q", "origin", "HEAD:main"], a)
        run(["dvc", "push"], a)
        leg("A: data stages, git push, dvc push")
        data_bytes = s3.stored_bytes()

        # Machine B: clone, pull the data (the data stages must not rerun), run the experiment, push it.
        b = tmp_path / "b"
        run(["git", "clone", "-q", "-b", "main", str(origin), str(b)], tmp_path)
        run(["git", "config", "user.email", "b@example.com"], b)
        run(["git", "config", "user.name", "b"], b)
        use_remote(b, s3.endpoint)
        run(["dvc", "pull", "--with-deps", "analyze"], b)
        leg("B: clone + dvc pull of the data")
        status = json.loads(run(["dvc", "status", "--json"], b).stdout)
        assert not set(status) & set(DATA_STAGES), status
        out = run(["dvc", "exp", "run", "-n", "gpu-run", "-S", "model=tiny-qwen3"], b, timeout=900).stdout
        assert not any(f"Running stage '{stage}'" in out for stage in DATA_STAGES), out
        assert "Running stage 'train'" in out and "Running stage 'evaluate'" in out
        leg("B: dvc exp run (train + evaluate)")
        run(["dvc", "exp", "push", "origin", "gpu-run"], b)
        leg("B: dvc exp push")

        # Machine A: fetch the experiment, compare it, bring its adapter back.
        run(["dvc", "exp", "pull", "origin", "gpu-run"], a)
        leg("A: dvc exp pull")
        shown = json.dumps(json.loads(run(["dvc", "exp", "show", "--json"], a).stdout))
        assert "gpu-run" in shown and "test" in shown and "position" in shown
        diff = run(["dvc", "metrics", "diff", "--all", "HEAD", "gpu-run"], a).stdout
        changed = [line for line in diff.splitlines() if "metrics/eval.json" in line]
        assert any("position.0shot.tuned" in line for line in changed), diff[-3000:]
        assert any("count.0shot.tuned" in line for line in changed), diff[-3000:]
        run(["dvc", "exp", "apply", "gpu-run"], a)
        run(["dvc", "pull"], a)
        leg("A: dvc exp apply + dvc pull (adapter)")
        print(
            f"\nremote after A's push: {data_bytes / 1e6:.1f} MB; after B's exp push: {s3.stored_bytes() / 1e6:.1f} MB "
            f"in {s3.object_count()} objects"
        )
        for name, seconds in legs.items():
            print(f"{name}: {seconds:.1f} s")
        assert (a / "models/adapter/adapter_model.safetensors").is_file()
        assert json.loads((a / "metrics/eval.json").read_text())["profile"] == "tiny-qwen3"
        assert json.loads(run(["dvc", "status", "--json"], a).stdout) == {}
