"""Locust users for the API (driven by scripts.loadtest): position, count and spell requests on real words
(scripts.loadtest.sample_request), no wait between requests. LOADTEST_MAX_REQUESTS stops the run after that many
requests; LOADTEST_MODEL picks base or tuned; LOADTEST_API_KEY, when set, is sent as the Bearer credential."""

import os
import random

import gevent
from locust import HttpUser, constant, events, task

from scripts.loadtest import sample_request  # the repo root is on PYTHONPATH (scripts.loadtest.run_load)

MODEL = os.environ.get("LOADTEST_MODEL", "tuned")
MAX_REQUESTS = int(os.environ.get("LOADTEST_MAX_REQUESTS", "0"))
RNG = random.Random()
API_KEY = os.environ.get("LOADTEST_API_KEY")
HEADERS = {"Authorization": f"Bearer {API_KEY}"} if API_KEY else {}


class APIUser(HttpUser):
    wait_time = constant(0)

    @task
    def ask(self) -> None:
        path, body = sample_request(RNG, MODEL)
        self.client.post(path, json=body, headers=HEADERS)


@events.test_start.add_listener
def _stop_after_max_requests(environment, **kwargs) -> None:
    """A watcher greenlet of its own quits the run at the bound (quitting from inside a user's request handler
    could kill the quitting greenlet itself and leave the run going until --run-time)."""
    if not MAX_REQUESTS:
        return

    def watch() -> None:
        while environment.runner.stats.total.num_requests < MAX_REQUESTS:
            gevent.sleep(0.1)
        environment.runner.quit()

    gevent.spawn(watch)
