"""Building Alpaca records from tokens, words and templates: spelling (train pool) and position/count/length
questions (eval pool). Deterministic for a seed; categories, styles and separators balanced by weight."""

import random
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from strawberry.answers import (
    COUNT_CLASSES,
    POSITION_CATEGORIES,
    count_class,
    indexed_spelling,
    ordinal,
    position_category,
)
from strawberry.templates import Separator, Template, TemplateError


def balanced(options: Sequence[str], n: int, rng: random.Random, weights: dict[str, float] | None = None) -> list[str]:
    """n draws whose counts match the weights exactly (largest remainder), in shuffled order."""
    weights = weights or dict.fromkeys(options, 1.0)
    unknown = set(weights) - set(options)
    if unknown:
        raise ValueError(f"weights for unknown option(s) {sorted(unknown)}; known: {sorted(options)}")
    active = [o for o in options if weights.get(o, 0) > 0]
    if not active:
        raise ValueError(f"all weights are zero for {list(options)}")
    total = sum(weights[o] for o in active)
    exact = {o: n * weights[o] / total for o in active}
    counts = {o: int(exact[o]) for o in active}
    for o in sorted(active, key=lambda o: exact[o] - counts[o], reverse=True)[: n - sum(counts.values())]:
        counts[o] += 1
    draws = [o for o in active for _ in range(counts[o])]
    rng.shuffle(draws)
    return draws


# Every record carries every meta key (None where it does not apply), so that all splits share one set of
# columns and load together with datasets.load_dataset("json", ...).
META_KEYS = ("task", "arm", "word", "length", "template_id", "style", "category", "direction", "separator",
             "token_ids", "token_split", "n_tokens", "letter", "position", "position_category", "control",
             "split")  # fmt: skip


def alpaca(instruction: str, output: str, meta: dict[str, Any]) -> dict[str, Any]:
    unknown = set(meta) - set(META_KEYS)
    if unknown:
        raise ValueError(f"meta keys {sorted(unknown)} are not in META_KEYS")
    return {"instruction": instruction, "input": "", "output": output, "meta": {k: meta.get(k) for k in META_KEYS}}


def spelling_records(
    tokens: list[dict],
    templates: list[Template],
    separators: dict[str, Separator],
    per_token: int,
    weights: dict[str, dict[str, float]],
    rng: random.Random,
) -> list[dict]:
    """`per_token` spelling records for every distinct English token text."""
    ids_by_text: dict[str, list[int]] = {}
    for token in tokens:
        ids_by_text.setdefault(token["text"], []).append(token["id"])
    texts = sorted(ids_by_text)
    n = len(texts) * per_token

    cells: dict[tuple[str, str], list[Template]] = {}
    for t in templates:
        cells.setdefault((t.category, t.style), []).append(t)
    # A weighted category or style without a template is reported as a missing cell below.
    categories = balanced(sorted({t.category for t in templates} | set(weights.get("category", {}))), n, rng,
                          weights.get("category"))  # fmt: skip
    styles = balanced(sorted({t.style for t in templates} | set(weights.get("style", {}))), n, rng,
                      weights.get("style"))  # fmt: skip
    seps = balanced(list(separators), n, rng, weights.get("separator"))
    missing = sorted({(c, s) for c, s in zip(categories, styles)} - set(cells))
    if missing:
        raise TemplateError(f"no spelling template for (category, style) {missing}; add one or set its weight to 0")

    records = []
    for i, (category, style, sep_name) in enumerate(zip(categories, styles, seps)):
        text = texts[i % len(texts)]
        template = rng.choice(cells[(category, style)])
        sep = separators[sep_name]
        letters = text[::-1] if template.direction == "reverse" else text
        meta = {
            "task": "spelling", "arm": "spelling", "word": text, "token_ids": ids_by_text[text],
            "length": len(text), "template_id": template.id, "category": category, "style": style,
            "direction": template.direction, "separator": sep_name,
        }  # fmt: skip
        records.append(alpaca(template.render(word=text, separator_hint=sep.hint), sep.joiner.join(letters), meta))
    return records


def letter_multiset(text: str) -> str:
    """The letters of a text, case-folded and sorted: what a spelling says about counts, whatever the order."""
    return "".join(sorted(c for c in text.lower() if c.isalpha()))


def format_control_records(spelling: list[dict], joiners: dict[str, str], rng: random.Random) -> list[dict]:
    """The format-control arm: each spelling record with the same prompt and reply shape (length, separator,
    direction) but the letters of another token text of the same length whose letters differ from the word's
    (as a multiset): the reply carries no information about the token, neither its letters' positions nor their
    counts. Where no such token exists, random lower-case letters (drawn until their multiset differs)."""
    by_length: dict[int, list[str]] = {}
    for record in spelling:
        by_length.setdefault(len(record["meta"]["word"]), []).append(record["meta"]["word"])
    control = []
    for record in spelling:
        meta = record["meta"]
        word = meta["word"]
        own = letter_multiset(word)
        others = by_length[len(word)]
        letters, method = None, "other_token"
        for _ in range(20):  # almost always the first draw: same-length tokens rarely share all letters
            other = rng.choice(others)
            if letter_multiset(other) != own:
                letters = list(other)
                break
        if letters is None:
            method = "random_letters"
            letters = list(word)
            while letter_multiset("".join(letters)) == own:
                letters = [rng.choice(string.ascii_lowercase) for _ in word]
        if meta["direction"] == "reverse":
            letters.reverse()
        output = joiners[meta["separator"]].join(letters)
        control.append({**record, "output": output, "meta": {**meta, "arm": "format_control", "control": method}})
    return control


def indexed_records(spelling: list[dict], templates: list[Template], rng: random.Random) -> list[dict]:
    """The indexed arm (TIPA): one record per spelling record, the same token spelled with each letter's position,
    with an indexed template balanced over style and direction."""
    chosen = balanced([t.id for t in templates], len(spelling), rng)
    by_id = {t.id: t for t in templates}
    records = []
    for record, template_id in zip(spelling, chosen):
        template = by_id[template_id]
        word = record["meta"]["word"]
        meta = {**record["meta"], "task": "indexed", "arm": "indexed", "template_id": template.id,
                "style": template.style, "category": None, "direction": template.direction,
                "separator": None}  # fmt: skip
        records.append(alpaca(template.render(word=word), indexed_spelling(word, template.direction), meta))
    return records


def positive_control_records(pool: list[dict], taken: set[str], n: int, templates: dict[str, list[Template]],
                             count_weights: dict[str, float], rng: random.Random) -> list[dict]:  # fmt: skip
    """The positive-control arm (a control, not the hypothesis): n position and count questions in the
    evaluation's form about eval-pool words that are not val/test words (`taken`), one of each per word, balanced
    like the test set (first/middle/last; true count 0/1/2/3+)."""
    rest = [w for w in pool if w["word"] not in taken]
    words = pick_eval_words(rest, (n + 1) // 2, 1, count_weights, rng)
    records = eval_records(words, templates, {"position": 1, "count": 1, "length": 0}, count_weights, rng)[:n]
    return [{**r, "meta": {**r["meta"], "arm": "positive_control"}} for r in records]


def letters_by_count_class(word: str) -> dict[str, list[str]]:
    """The letters a count question about `word` may ask, by true-count class. Absent letters are lower-case
    letters missing from the word in either case; a letter whose other case also occurs is never asked."""
    counts = Counter(word)
    out: dict[str, list[str]] = {c: [] for c in COUNT_CLASSES}
    for letter in sorted(counts):
        if letter.isalpha() and letter.swapcase() not in counts:
            out[count_class(counts[letter])].append(letter)
    out["0"] = [c for c in string.ascii_lowercase if c not in word.lower()]
    return out


def class_targets(n: int, weights: dict[str, float]) -> dict[str, int]:
    """How many of n count questions each true-count class gets: exact by weight (largest remainder)."""
    return Counter(balanced(COUNT_CLASSES, n, random.Random(0), weights))


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
    if n_count > len(COUNT_CLASSES):
        raise ValueError(f"count questions per word must be <= {len(COUNT_CLASSES)} (one per true-count class)")
    targets = class_targets(len(words) * n_count, weights)
    able = [{c for c, letters in letters_by_count_class(w).items() if letters} for w in words]
    assigned: list[list[str]] = [[] for _ in words]
    for cls in sorted(COUNT_CLASSES, key=lambda c: sum(c in a for a in able) / (targets[c] or 1)):
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


def eval_records(
    words: list[dict],
    templates: dict[str, list[Template]],
    per_word: dict[str, int],
    count_weights: dict[str, float],
    rng: random.Random,
) -> list[dict]:
    """Position, count and length questions about each word (dicts with word, token_split). Count questions are
    balanced over the true count (0, 1, 2, 3+) by `count_weights`, position questions over first/middle/last."""
    records: list[dict] = []
    n_pos = per_word["position"]
    if n_pos > len(POSITION_CATEGORIES):
        raise ValueError(f"position questions per word must be <= {len(POSITION_CATEGORIES)} (first/middle/last)")
    count_plan = assign_count_classes([w["word"] for w in words], per_word["count"], count_weights, rng)
    direct = {task: [t for t in templates[task] if t.answer_mode == "direct"] for task in per_word if per_word[task]}
    chosen = {task: iter(balanced([t.id for t in ts], len(words) * per_word[task], rng))
              for task, ts in direct.items()}  # fmt: skip
    by_id = {t.id: t for ts in templates.values() for t in ts}

    def question(task: str, word: dict, output: str, **extra: Any) -> dict:
        template = by_id[next(chosen[task])]
        w = word["word"]
        meta = {"task": task, "word": w, "length": len(w), "n_tokens": len(word["token_split"]),
                "token_split": word["token_split"], "template_id": template.id, "style": template.style,
                "separator": None, **extra}  # fmt: skip
        values = {"word": w, "letter": extra.get("letter"), "n": extra.get("position")}
        if "position" in extra:
            values["ordinal"] = ordinal(extra["position"])
        return alpaca(template.render(**values), output, meta)

    for i, (word, count_classes) in enumerate(zip(words, count_plan)):
        w = word["word"]
        # Rotate the category order across words so first/middle/last stay balanced and distinct per word.
        for j in range(n_pos):
            category = POSITION_CATEGORIES[(i + j) % len(POSITION_CATEGORIES)]
            pos = {"first": 1, "last": len(w)}.get(category) or rng.randint(2, len(w) - 1)
            records.append(question("position", word, w[pos - 1], letter=w[pos - 1], position=pos,
                                    position_category=position_category(pos, len(w))))  # fmt: skip
        letters = letters_by_count_class(w)
        for cls in count_classes:
            letter = rng.choice(letters[cls])
            records.append(question("count", word, str(w.count(letter)), letter=letter))
        for _ in range(per_word["length"]):
            records.append(question("length", word, str(len(w))))
    return records
