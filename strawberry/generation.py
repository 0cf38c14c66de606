"""Building the question records: position, count and length questions about eval words (val/test), and the
controls' records about other words (the positive control's questions, the worked control's worked answers). The
spelling-shaped arms are built by their tasks (strawberry.tasks.spelling, .indexed); each task's own rules (what to
ask, the answer) live in strawberry.tasks."""

import random
from typing import Any

from strawberry.answer_modes import as_mode, mode_templates
from strawberry.records import alpaca
from strawberry.splitting import family
from strawberry.tasks import count, position, spelling
from strawberry.tasks.common import balanced, template_values
from strawberry.templates import Separator, Template


def control_pool(pool: list[dict], eval_words: list[dict], family_prefix: int | None) -> list[dict]:
    """Eval-pool words the controls may use: no val/test word, nor a sibling of one (the same family)."""
    taken = {family(w["word"], family_prefix) for w in eval_words}
    return [w for w in pool if family(w["word"], family_prefix) not in taken]


def positive_control_records(pool: list[dict], n: int, templates: dict[str, list[Template]],
                             count_weights: dict[str, float], rng: random.Random, letters: str | None = None
                             ) -> list[dict]:  # fmt: skip
    """The positive-control arm (a control, not the hypothesis): n position and count questions in the
    evaluation's form about words of `pool` (control_pool: never val/test words or their siblings), one of each
    per word, balanced like the test set (first/middle/last; true count 0/1/2/3+)."""
    words = count.pick_eval_words(pool, (n + 1) // 2, 1, count_weights, rng, letters)
    records = eval_records(words, templates, {"position": 1, "count": 1, "length": 0}, count_weights, rng,
                           letters)[:n]  # fmt: skip
    return [{**r, "meta": {**r["meta"], "arm": "positive_control"}} for r in records]


def worked_control_records(pool: list[dict], n: int, templates: dict[str, list[Template]],
                           separators: dict[str, Separator], weights: dict[str, dict[str, float]],
                           count_weights: dict[str, float], rng: random.Random, letters: str | None = None
                           ) -> list[dict]:  # fmt: skip
    """The worked control (the calibration arm: can this setup teach a letter skill in the worked answer mode?):
    about words of `pool` (never val/test words or their siblings), per word a position and a count question
    answered in the worked form, and the word spelled plainly (nanochat's SpellingBee with SimpleSpelling); n
    records in all."""
    words = count.pick_eval_words(pool, -(-n // 3), 1, count_weights, rng, letters)
    questions = eval_records(words, templates, {"position": 1, "count": 1, "length": 0}, count_weights, rng, letters)
    by_mode = mode_templates(templates)
    worked = [as_mode(q, by_mode, "worked", worked=True) for q in questions]
    spelled = spelling.records([{"text": w["word"], "id": i} for w in words for i in w["token_ids"]],
                               templates["spelling"], separators, 1, weights, rng)  # fmt: skip
    by_word = {r["meta"]["word"]: r for r in spelled}
    records = []
    for asked_position, asked_count in zip(worked[::2], worked[1::2]):
        meta = asked_position["meta"]
        spelled_word = by_word[meta["word"]]
        extra = {"token_split": meta["token_split"], "n_tokens": meta["n_tokens"]}
        records += [asked_position, asked_count, {**spelled_word, "meta": {**spelled_word["meta"], **extra}}]
    return [{**r, "meta": {**r["meta"], "arm": "worked_control",
                           "answer_mode": "worked" if r["meta"]["task"] != "spelling" else None}}
            for r in records[:n]]  # fmt: skip


def coverage_records(words: list[dict], tokens: list[dict], share: float, forms: int,
                     templates: list[Template], separators: dict[str, Separator], weights: dict[str, dict[str, float]],
                     rng: random.Random) -> tuple[list[dict], list[str]]:  # fmt: skip
    """The coverage set: own-token spelling of the pieces (token_split) of a random `share` of the eval words, each
    piece in `forms` spelling records of other template forms; the words themselves are never spelled whole (they
    are multi-token), and one-letter pieces are left out (nothing to spell). Returns the records and the covered
    words: the other words are the uncovered group of the within-model contrast (some of their pieces are spelled
    too, as pieces are shared, so that contrast goes by each word's covered share)."""
    names = sorted(w["word"] for w in words)
    covered = sorted(rng.sample(names, round(len(names) * share)))
    chosen_words = set(covered)
    pieces = {p for w in words if w["word"] in chosen_words for p in w["token_split"] if len(p) > 1}
    chosen = [t for t in tokens if t["text"] in pieces]
    if missing := sorted(pieces - {t["text"] for t in chosen}):
        raise ValueError(f"coverage: pieces of eval words that are no English token: {missing[:10]}")
    return spelling.records(chosen, templates, separators, forms, weights, rng), covered


def piece_coverage(words: list[dict], share: float, rng: random.Random) -> tuple[dict, list[dict]]:
    """Study v4's coverage by piece: the distinct pieces of 2+ letters of the eval words as the questions quote them
    (token_split, compared lower-case), a random `share` of them covered, the rest uncovered. Returns both lists and
    every covered piece as it stands in a word ({"text", "token_id"}: the spelling records quote it so), one per
    distinct text."""
    found: dict[str, int] = {}
    for w in words:
        for text, token_id in zip(w["token_split"], w["token_ids"]):
            if len(text) > 1:
                found.setdefault(text, token_id)
    keys = sorted({text.lower() for text in found})
    covered = set(rng.sample(keys, round(len(keys) * share)))
    pieces = [{"text": t, "token_id": i} for t, i in sorted(found.items()) if t.lower() in covered]
    return {"covered": sorted(covered), "uncovered": sorted(set(keys) - covered)}, pieces


def eval_records(
    words: list[dict],
    templates: dict[str, list[Template]],
    per_word: dict[str, int],
    count_weights: dict[str, float],
    rng: random.Random,
    letters: str | None = None,
) -> list[dict]:
    """Position, count and length questions about each word (dicts with word, token_split). Count questions are
    balanced over the true count (0, 1, 2, 3+) by `count_weights` and ask about `letters` (None: any), each class
    spread evenly over them; position questions are balanced over first/middle/last."""
    records: list[dict] = []
    n_pos = per_word["position"]
    if n_pos > len(position.CATEGORIES):
        raise ValueError(f"position questions per word must be <= {len(position.CATEGORIES)} (first/middle/last)")
    count_plan = count.assign_count_classes([w["word"] for w in words], per_word["count"], count_weights, rng, letters)
    chooser = count.LetterChooser(letters)
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
        return alpaca(template.render(**template_values(meta)), output, meta)

    for i, (word, count_classes) in enumerate(zip(words, count_plan)):
        w = word["word"]
        # Rotate the category order across words so first/middle/last stay balanced and distinct per word.
        for j in range(n_pos):
            asked = position.pick(w, position.CATEGORIES[(i + j) % len(position.CATEGORIES)], rng)
            records.append(question("position", word, asked["letter"], **asked))
        for cls in count_classes:
            asked = chooser.pick(w, cls, rng)
            records.append(question("count", word, str(w.count(asked["letter"])), **asked))
        for _ in range(per_word["length"]):
            records.append(question("length", word, str(len(w))))
    return records
