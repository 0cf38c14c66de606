"""Letter count: "How many times does 'r' appear in 'strawberry'?" -> "3". Balanced over the true count (0, 1, 2,
3+: the question class) by generate.count_weights, which also decides which words are picked; hard = true count 2
or more (always 0 and always 1 fail, but always 2 does not)."""

import random
import re
import string
from collections import Counter

from strawberry.tasks.common import ParsedAnswer, balanced, equal_quota, parse_number

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


# The measure that decides a study: all count questions, balanced over the true count 0/1/2/3+, so every constant
# answer scores the same 1/4. The hard subset (true count 2+) is not used: always 2 would pass half of it.
DECIDES_ON_HARD = False


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


def letters_by_count_class(word: str, letters: str | None = None) -> dict[str, list[str]]:
    """The letters a count question about `word` may ask, by true-count class, among `letters` (None: any).
    Absent letters are lower-case letters missing from the word in either case; a letter whose other case also
    occurs is never asked."""
    counts = Counter(word)
    out: dict[str, list[str]] = {c: [] for c in CLASSES}
    for letter in sorted(counts):
        if letter.isalpha() and letter.swapcase() not in counts and (letters is None or letter.lower() in letters):
            out[count_class(counts[letter])].append(letter)
    out["0"] = [c for c in (letters or string.ascii_lowercase) if c not in word.lower()]
    return out


class LetterChooser:
    """Picks the letter each count question asks so that no letter tells its true count: among the word's letters
    of the wanted class, the one asked least often for that class so far (ties drawn at random). Each class's
    questions then spread evenly over the letters, and with classes balanced, the asked letter alone predicts the
    count no better than a constant (validate checks it)."""

    def __init__(self, letters: str | None = None) -> None:
        self.letters = letters
        self.asked: dict[tuple[str, str], int] = Counter()  # (letter, class) -> questions so far

    def pick(self, word: str, cls: str, rng: random.Random) -> dict:
        """A question's meta about `word` with true-count class `cls`: the letter asked for."""
        candidates = letters_by_count_class(word, self.letters)[cls]
        fewest = min(self.asked[(c.lower(), cls)] for c in candidates)
        letter = rng.choice([c for c in candidates if self.asked[(c.lower(), cls)] == fewest])
        self.asked[(letter.lower(), cls)] += 1
        return {"letter": letter}


def by_letter(questions: list[dict], key=lambda q: q["output"]) -> dict[str, Counter]:
    """The tally the letter shortcut is read from: asked letter (lower-case) -> Counter of key(question) over its
    questions (default: the true count; count_class for the classes)."""
    tally: dict[str, Counter] = {}
    for q in questions:
        tally.setdefault(q["meta"]["letter"].lower(), Counter())[key(q)] += 1
    return dict(sorted(tally.items()))


def letter_rule(fit_on: list[dict]) -> dict[str, str]:
    """The shortcut a model could learn without reading the word: asked letter -> its most frequent true count
    in `fit_on` (val), with "" -> the most frequent count overall for letters never seen there."""
    rule = {letter: counts.most_common(1)[0][0] for letter, counts in by_letter(fit_on).items()}
    overall = Counter(q["output"] for q in fit_on).most_common(1)
    return rule | {"": overall[0][0] if overall else "1"}


def shortcuts(fit_on: list[dict], questions: list[dict]) -> dict[str, float]:
    """Accuracy of the letter-only rule fitted on `fit_on` (val) on these questions."""
    rule = letter_rule(fit_on)
    guess = [rule.get(q["meta"]["letter"].lower(), rule[""]) for q in questions]
    return {"letter_rule": sum(g == q["output"] for g, q in zip(guess, questions)) / len(questions)}


def classes_by_letter(questions: list[dict]) -> dict[str, Counter]:
    """Asked letter -> how many of its questions fall in each true-count class."""
    return by_letter(questions, key=lambda q: count_class(q["output"]))


def letter_shortcut(questions: list[dict]) -> tuple[float, float]:
    """In-sample accuracy of the asked letter -> most frequent count rule on these questions, and what it would be
    with every letter's questions spread evenly over the classes (ceil(n/4) right per letter)."""
    tally = classes_by_letter(questions)
    n = sum(sum(c.values()) for c in tally.values())
    best = sum(c.most_common(1)[0][1] for c in tally.values())
    even = sum(-(-sum(c.values()) // len(CLASSES)) for c in tally.values())
    return best / n, even / n


def most_telling_letters(questions: list[dict], k: int = 3) -> list[tuple[str, Counter]]:
    """The k asked letters whose questions fall most often in one true-count class (the letter shortcut's worst)."""
    return sorted(classes_by_letter(questions).items(), key=lambda item: item[1].most_common(1)[0][1]
                  / sum(item[1].values()), reverse=True)[:k]  # fmt: skip


def can_take(word: str, n_count: int, letters: str | None = None) -> bool:
    """Whether `word` has letters of n_count different true-count classes (one question per class)."""
    return sum(1 for found in letters_by_count_class(word, letters).values() if found) >= n_count


def class_targets(n: int, weights: dict[str, float]) -> dict[str, int]:
    """How many of n count questions each true-count class gets: exact by weight (largest remainder)."""
    return Counter(balanced(CLASSES, n, random.Random(0), weights))


def pick_eval_words(pool: list[dict], n_words: int, n_count: int, weights: dict[str, float], rng: random.Random,
                    letters: str | None = None) -> list[dict]:  # fmt: skip
    """n_words words from the eval pool, a uniform sample (of the words that can take n_count count questions about
    `letters`) except that enough of them have a letter occurring 3+ times (and twice) for the count balance: such
    words are rarer in the pool than the weights ask for."""
    targets = class_targets(n_words * n_count, weights)
    chosen: list[dict] = []
    taken: set[str] = set()
    for cls in ("3+", "2"):  # a word gives at most one question per class
        need = targets[cls] - sum(1 for w in chosen if letters_by_count_class(w["word"], letters)[cls])
        if need <= 0:
            continue
        # as many words for each letter as the pool allows, so that no letter ends up the sign of this class
        able: dict[str, list[dict]] = {}
        for w in pool:
            if w["word"] not in taken:
                for letter in letters_by_count_class(w["word"], letters)[cls]:
                    able.setdefault(letter.lower(), []).append(w)
        distinct = len({w["word"] for ws in able.values() for w in ws})
        if distinct < need:
            raise ValueError(f"count balance: {targets[cls]} questions with true count {cls} need as many words with "
                             f"such a letter; the eval pool has {distinct}: lower generate.count_weights['{cls}'] "
                             "or generate.eval_words")  # fmt: skip
        while need > 0:  # a word may have two such letters: taken for one, it is gone for the other
            free = {c: [w for w in ws if w["word"] not in taken] for c, ws in sorted(able.items())}
            for letter, k in equal_quota({c: len(ws) for c, ws in free.items()}, need).items():
                available = [w for w in free[letter] if w["word"] not in taken]
                picked = rng.sample(available, min(k, len(available), need))
                chosen += picked
                taken |= {w["word"] for w in picked}
                need -= len(picked)
    if len(chosen) > n_words:
        raise ValueError(f"count balance: generate.eval_words={n_words} is too few for {n_count} count questions per "
                         f"word at weights {weights}")  # fmt: skip
    # every word must be able to take its n_count questions (a word with none of the letters has true count 0 only)
    rest = rng.sample([w for w in pool if w["word"] not in taken and can_take(w["word"], n_count, letters)],
                      n_words - len(chosen))  # fmt: skip
    words = chosen + rest
    rng.shuffle(words)
    return words


def assign_count_classes(words: list[str], n_count: int, weights: dict[str, float], rng: random.Random,
                         letters: str | None = None) -> list[list[str]]:  # fmt: skip
    """The true-count classes of each word's count questions, so that the totals match the weights exactly.
    Rare classes are placed first, each on words that can take it, least flexible words first."""
    if n_count > len(CLASSES):
        raise ValueError(f"count questions per word must be <= {len(CLASSES)} (one per true-count class)")
    targets = class_targets(len(words) * n_count, weights)
    able = [{c for c, found in letters_by_count_class(w, letters).items() if found} for w in words]
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
