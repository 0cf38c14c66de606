"""Letter count: "How many times does 'r' appear in 'strawberry'?" -> "3". Balanced over the true count (0, 1, 2,
3+: the question class) by generate.count_weights, which also decides which words are picked; hard = true count 2
or more (always 0 and always 1 fail, but always 2 does not)."""

import random
import re
import string
from collections import Counter

from strawberry.tasks.common import ParsedAnswer, balanced, parse_number

CLASSES = ("0", "1", "2", "3+")  # true-count classes that count questions are balanced over
ANSWERED = (*CLASSES, "none")  # answered count classes in the confusion table; none = no number in the reply


def count_class(answer: str | int) -> str:
    """The true-count class of a count answer: "0", "1", "2" or "3+"."""
    return "3+" if int(answer) >= 3 else str(int(answer))


def expected(meta: dict, joiners: dict[str, str]) -> str:
    return str(meta["word"].count(meta["letter"]))


_WORD_LENGTH = re.compile(r"\b\w+-letter\b", re.IGNORECASE)  # "the 10-letter word": its length, not the count
_NONE = re.compile(r"\b(?:none|no)\b", re.IGNORECASE)


def parse(reply: str) -> ParsedAnswer:
    """The first integer or number word ("twice" -> "2"), not a word length ("The 10-letter word has 3 r's" -> "3");
    without any number, "none" or "no" -> "0"."""
    parsed = parse_number(reply, ignore=_WORD_LENGTH)
    if parsed.lenient is None and _NONE.search(reply):
        return ParsedAnswer(parsed.strict, "0")
    return parsed


def question_class(meta: dict, expected: str) -> str:
    return count_class(expected)


def is_hard(meta: dict, expected: str) -> bool:
    return int(expected) >= 2


def strategies(questions: list[dict]) -> dict[str, float]:
    """Always 1, always 0, always the majority answer."""
    n = len(questions)
    majority = Counter(q["output"] for q in questions).most_common(1)[0][1] / n
    return {"always_1": sum(q["output"] == "1" for q in questions) / n,
            "always_0": sum(q["output"] == "0" for q in questions) / n, "majority": majority}  # fmt: skip


def confusion(rows: list[dict]) -> dict[str, dict[str, int]]:
    """True count class -> answered count class -> replies (lenient parse): a shift from "1" to "2" at a glance."""
    table = {c: dict.fromkeys(ANSWERED, 0) for c in CLASSES}
    for r in rows:
        answered = count_class(r["lenient"]) if r["lenient"] is not None else "none"
        table[count_class(r["expected"])][answered] += 1
    return table


# -- making balanced count questions ------------------------------------------------------------------------------


def letters_by_count_class(word: str) -> dict[str, list[str]]:
    """The letters a count question about `word` may ask, by true-count class. Absent letters are lower-case
    letters missing from the word in either case; a letter whose other case also occurs is never asked."""
    counts = Counter(word)
    out: dict[str, list[str]] = {c: [] for c in CLASSES}
    for letter in sorted(counts):
        if letter.isalpha() and letter.swapcase() not in counts:
            out[count_class(counts[letter])].append(letter)
    out["0"] = [c for c in string.ascii_lowercase if c not in word.lower()]
    return out


def pick(word: str, cls: str, rng: random.Random) -> dict:
    """A question's meta about `word` with true-count class `cls`: the letter asked for."""
    return {"letter": rng.choice(letters_by_count_class(word)[cls])}


def class_targets(n: int, weights: dict[str, float]) -> dict[str, int]:
    """How many of n count questions each true-count class gets: exact by weight (largest remainder)."""
    return Counter(balanced(CLASSES, n, random.Random(0), weights))


def pick_eval_words(pool: list[dict], n_words: int, n_count: int, weights: dict[str, float], rng: random.Random
                    ) -> list[dict]:  # fmt: skip
    """n_words words from the eval pool, a uniform sample except that enough of them have a letter occurring
    3+ times (and twice) for the count balance: such words are rarer in the pool than the weights ask for."""
    targets = class_targets(n_words * n_count, weights)
    chosen: list[dict] = []
    taken: set[str] = set()
    for cls in ("3+", "2"):  # a word gives at most one question per class
        need = targets[cls] - sum(1 for w in chosen if letters_by_count_class(w["word"])[cls])
        if need <= 0:
            continue
        able = [w for w in pool if w["word"] not in taken and letters_by_count_class(w["word"])[cls]]
        if len(able) < need:
            raise ValueError(f"count balance: {targets[cls]} questions with true count {cls} need as many words with "
                             f"such a letter; the eval pool has {len(able)}: lower generate.count_weights['{cls}'] "
                             "or generate.eval_words")  # fmt: skip
        picked = rng.sample(able, need)
        chosen += picked
        taken |= {w["word"] for w in picked}
    if len(chosen) > n_words:
        raise ValueError(f"count balance: generate.eval_words={n_words} is too few for {n_count} count questions per "
                         f"word at weights {weights}")  # fmt: skip
    rest = rng.sample([w for w in pool if w["word"] not in taken], n_words - len(chosen))
    words = chosen + rest
    rng.shuffle(words)
    return words


def assign_count_classes(words: list[str], n_count: int, weights: dict[str, float], rng: random.Random
                         ) -> list[list[str]]:  # fmt: skip
    """The true-count classes of each word's count questions, so that the totals match the weights exactly.
    Rare classes are placed first, each on words that can take it, least flexible words first."""
    if n_count > len(CLASSES):
        raise ValueError(f"count questions per word must be <= {len(CLASSES)} (one per true-count class)")
    targets = class_targets(len(words) * n_count, weights)
    able = [{c for c, letters in letters_by_count_class(w).items() if letters} for w in words]
    assigned: list[list[str]] = [[] for _ in words]
    for cls in sorted(CLASSES, key=lambda c: sum(c in a for a in able) / (targets[c] or 1)):
        candidates = [i for i in range(len(words)) if cls in able[i] and len(assigned[i]) < n_count]
        rng.shuffle(candidates)
        # words with the most slots left and the fewest other classes open go first (they have the least choice)
        candidates.sort(key=lambda i: (len(assigned[i]), len(able[i] - set(assigned[i]))))
        if len(candidates) < targets[cls]:
            raise ValueError(
                f"count balance: only {len(candidates)} words left can take a question with true count "
                f"{cls}, {targets[cls]} needed: change generate.count_weights or generate.eval_words"
            )
        for i in candidates[: targets[cls]]:
            assigned[i].append(cls)
            able[i].discard(cls)
    return assigned
