"""split by word family: siblings stay on one side, the split has its own random stream."""

import random

from strawberry.splitting import family, split_by_family


def questions(words: list[str]) -> list[dict]:
    return [{"meta": {"word": w, "task": t}} for w in words for t in ("position", "count")]


def test_siblings_stay_on_one_side():
    words = ["absolutism", "absolutist", "Absolutely", "strawberry", "strawman", "added", "add", "zebra", "quartz",
             "pseudonym", "pseudopod", "electric", "electron", "cat"] * 1  # fmt: skip
    for seed in range(20):
        splits = split_by_family(questions(words), 0.3, 6, random.Random(seed))
        sides = {side: {q["meta"]["word"] for q in rows} for side, rows in splits.items()}
        assert not sides["val"] & sides["test"] and sides["val"] | sides["test"] == set(words)
        for a, b in [("absolutism", "absolutist"), ("absolutism", "Absolutely"), ("pseudonym", "pseudopod"),
                     ("electric", "electron")]:  # fmt: skip
            assert (a in sides["val"]) == (b in sides["val"]), (seed, a, b)
    assert family("Absolutism", 6) == family("absolutist", 6) == "absolu" and family("add", 6) == "add"
    assert family("Absolutism", None) == "Absolutism"  # by word


def test_val_gets_its_share_of_families_and_the_split_depends_on_its_own_seed_only():
    words = [f"w{i:04d}{s}" for i in range(500) for s in ("a", "b")]  # 500 families of two
    split = split_by_family(questions(words), 0.2, 5, random.Random(7))
    assert len({family(q["meta"]["word"], 5) for q in split["val"]}) == 100
    again = split_by_family(list(reversed(questions(words))), 0.2, 5, random.Random(7))
    assert {q["meta"]["word"] for q in again["val"]} == {q["meta"]["word"] for q in split["val"]}  # input order
