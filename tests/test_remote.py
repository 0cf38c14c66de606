"""The DVC remote on S3, against a real S3-compatible server on localhost (moto in server mode)."""

import hashlib
import json
import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import VENV_BIN, data_project, run
from tests.s3server import s3_server
from tests.test_pipeline_model import TINY  # noqa: E402  (its data params: the data stages run once for both)

DATA_OUTS = ["data/tokens", "data/generated", "data/splits"]


def use_remote(repo, endpoint: str) -> None:
    """What a user does once per clone: endpoint and credentials go to .dvc/config.local, never committed."""
    run(["dvc", "remote", "modify", "--local", "storage", "endpointurl", endpoint], repo)
    run(["dvc", "remote", "modify", "--local", "storage", "access_key_id", "testing"], repo)
    run(["dvc", "remote", "modify", "--local", "storage", "secret_access_key", "testing"], repo)


def digests(repo) -> dict[str, str]:
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
            for out in DATA_OUTS for p in sorted((repo / out).rglob("*.jsonl"))}  # fmt: skip


def wipe(repo) -> None:
    shutil.rmtree(repo / ".dvc" / "cache")
    for out in DATA_OUTS:
        for p in (repo / out).rglob("*.jsonl"):
            p.unlink()


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_tmp):
    return data_project(tmp_path_factory.mktemp("remote"), TINY, shared_tmp)


def test_push_wipe_pull_is_byte_identical(built):
    with s3_server() as s3:
        use_remote(built, s3.endpoint)
        committed = (built / ".dvc" / "config").read_text()
        assert "testing" not in committed and "127.0.0.1" not in committed  # secrets stay in config.local
        before = digests(built)
        assert len(before) == 21  # tokens (2), generated (9: with the coverage sets of v3 and v4), splits (10)
        run(["dvc", "push"], built)
        assert s3.object_count() >= 15
        wipe(built)
        run(["dvc", "pull", "--with-deps", "analyze"], built)
        assert digests(built) == before
        assert json.loads(run(["dvc", "status", "--json", "--with-deps", "analyze"], built).stdout) == {}


def test_interrupted_push_then_retry_loses_nothing(built):
    with s3_server() as s3:
        use_remote(built, s3.endpoint)
        before = digests(built)
        env = {**subprocess.os.environ, "PATH": f"{VENV_BIN}:" + subprocess.os.environ["PATH"]}
        push = subprocess.Popen([str(VENV_BIN / "dvc"), "push"], cwd=built, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(1.0)
        s3.freeze()  # the server stops answering in the middle of the push ...
        time.sleep(2.0)
        push.send_signal(signal.SIGKILL)  # ... and the push dies with it
        push.wait(timeout=30)
        s3.thaw()
        partial = s3.object_count()
        run(["dvc", "push"], built, timeout=300)  # retry
        assert s3.object_count() >= max(partial, 15)
        wipe(built)
        run(["dvc", "pull", "--with-deps", "analyze"], built)
        assert digests(built) == before
        assert json.loads(run(["dvc", "status", "--json", "--with-deps", "analyze"], built).stdout) == {}
