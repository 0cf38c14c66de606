"""Locust users for the API (driven by scripts.loadtest): position, count and spell requests on real words,
no wait between requests. LOADTEST_MAX_REQUESTS stops the run after that many requests; LOADTEST_MODEL picks
base or tuned."""

import os
import random

import gevent
from locust import HttpUser, constant, events, task

WORDS = ["strawberry", "mississippi", "bookkeeper", "aardvark", "rhythm", "kayak", "onomatopoeia", "syzygy",
         "quizzically", "abracadabra", "committee", "balloon", "parallel", "occurrence", "banana"]  # fmt: skip
MODEL = os.environ.get("LOADTEST_MODEL", "tuned")
MAX_REQUESTS = int(os.environ.get("LOADTEST_MAX_REQUESTS", "0"))


class APIUser(HttpUser):
    wait_time = constant(0)

    @task(2)
    def position(self) -> None:
        word = random.choice(WORDS)
        self.client.post("/position", json={"word": word, "position": random.randint(1, len(word)), "model": MODEL})

    @task(2)
    def count(self) -> None:
        word = random.choice(WORDS)
        self.client.post("/count", json={"word": word, "letter": random.choice(word), "model": MODEL})

    @task(1)
    def spell(self) -> None:
        self.client.post("/spell", json={"word": random.choice(WORDS), "model": MODEL})


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
