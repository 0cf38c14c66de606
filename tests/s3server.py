"""A real S3-compatible server on localhost (moto in server mode), started and stopped by the tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import boto3

BUCKET = "strawberry-spelling"  # the bucket named by the committed remote URL in .dvc/config
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        self.client().create_bucket(Bucket=BUCKET)

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", **CREDENTIALS)

    def object_count(self) -> int:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return sum(page.get("KeyCount", 0) for page in pages)

    def stored_bytes(self) -> int:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return sum(obj["Size"] for page in pages for obj in page.get("Contents", []))

    def freeze(self) -> None:  # the server stops answering, keeping what it stored
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.proc.terminate()
        self.proc.wait(timeout=10)


@contextmanager
def s3_server():
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()
