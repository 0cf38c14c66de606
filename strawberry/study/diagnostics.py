"""Study diagnostics that never decide: accuracy by how much of a word the coverage set spelled, what a shortcut
answers, one model's row of scores."""

from collections import Counter

import numpy as np

from strawberry.study.gate import spelled_right
from strawberry.study.statistics import accuracy_of, subset
from strawberry.tasks import DECIDING_HARD_ONLY

SHARE_BINS = {"none": (0.0, 0.0), "part": (1e-9, 1 - 1e-9), "all": (1.0, 1.0)}  # covered share of a word's pieces

def share_bin(share: float | None) -> str | None:
    if share is None:
        return None
    return next(name for name, (low, high) in SHARE_BINS.items() if low <= share <= high)


def covered_contrast(cols: dict, shares: dict[str, float | None], task: str) -> dict[str, tuple[float, int]]:
    """Accuracy on the task's deciding questions by the word's covered share bin: bin -> (accuracy, questions)."""
    mask = subset(cols, task, DECIDING_HARD_ONLY[task])
    bins = np.array([share_bin(shares.get(w)) for w in cols["word"]], dtype=object)
    correct = np.array(cols["correct"])
    out = {}
    for name in SHARE_BINS:
        keep = mask & (bins == name)
        out[name] = (float(correct[keep].mean()) if keep.any() else float("nan"), int(keep.sum()))
    return out


def scores(cols: dict) -> list[float]:
    """One model's row of the arms tables: accuracy per deciding measure, answered, spelled right."""
    accuracies = [accuracy_of(cols, task, hard) for task, hard in DECIDING_HARD_ONLY.items()]
    return accuracies + [float(np.mean(cols["answered"])), spelled_right(cols)]


def shortcut_answers(cols: dict) -> dict[str, float | str] | None:
    """What a model that does not read the word answers, and how often it did, over its answered deciding questions:
    position -> the share answered with the word's first letter (never right there: a hard question asks for
    another letter); count -> its most frequent answer and that answer's share (the true counts are balanced, so a
    model that reads the word has none above about a quarter). None: the export kept no answers."""
    if "answer" not in cols:
        return None
    answer = np.array(cols["answer"], dtype=object)
    given = answer != None  # noqa: E711 (elementwise)
    position = subset(cols, "position", DECIDING_HARD_ONLY["position"]) & given
    first = np.array([w[0].lower() for w in cols["word"]], dtype=object)
    counts = Counter(answer[subset(cols, "count", DECIDING_HARD_ONLY["count"]) & given])
    top, n_top = counts.most_common(1)[0] if counts else ("—", 0)
    return {"first_letter": float((answer[position] == first[position]).mean()) if position.any() else float("nan"),
            "count_top": top, "count_top_share": n_top / max(1, sum(counts.values()))}  # fmt: skip
