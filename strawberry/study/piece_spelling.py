"""Study v4's piece-spelling diagnostic (never deciding): a model spells covered and uncovered pieces alone,
inference only, 3-shot in the numbered form the worked reply uses, scored exactly, by the piece's letter length. Did
the spelling training teach the covered pieces (S and P above A and base on them), and did it spread to the
uncovered ones? `scripts.study run` computes it for base and for each finished v4 cell's adapter and keeps it in
the cell's export (the adapter is in the local DVC cache only then), so adding it changed no run."""

import json
import random
from pathlib import Path
from tempfile import TemporaryDirectory

from strawberry.answer_modes import worked_spelling
from strawberry.jsonl import write_atomic
from strawberry.prompts import chat_template_kwargs, render_prompt
from strawberry.study.pieces import COVERED, UNCOVERED
from strawberry.tasks.common import letter_lines
from strawberry.templates import load_templates

TEMPLATES = "data/templates"
ADAPTER = "models/adapter"
SHOT_PIECES = ("ber", "stand", "ough")  # the worked examples: the same three for every model
PER_GROUP = 600  # pieces drawn from each of the covered and uncovered sets (a fixed draw: every model spells the same)
LENGTHS = ("2", "3", "4", "5", "6+")
BATCH_SIZE = 64


def length_bin(piece: str) -> str:
    return str(len(piece)) if len(piece) < 6 else "6+"


def drawn_pieces(coverage: dict, seed: int, per_group: int = PER_GROUP) -> dict[str, list[str]]:
    """Covered / uncovered -> the pieces every model spells (all of a group smaller than `per_group`)."""
    rng = random.Random(seed)
    groups = {COVERED: coverage["covered"], UNCOVERED: coverage["uncovered"]}
    return {g: sorted(rng.sample(sorted(ps), min(per_group, len(ps)))) for g, ps in groups.items()}


def spelling_prompts(tokenizer, pieces: list[str], template_kwargs: dict) -> list[str]:
    """Each piece asked in the numbered task's first phrasing, after the same three worked examples."""
    template = load_templates(TEMPLATES)["numbered"][0]
    shots = [{"instruction": template.render(word=p), "input": "", "output": "\n".join(letter_lines(p))}
             for p in SHOT_PIECES]  # fmt: skip
    return [render_prompt(tokenizer, {"instruction": template.render(word=p), "input": ""}, shots, template_kwargs)
            for p in pieces]  # fmt: skip


def tally(pieces: list[str], replies: list[str]) -> dict:
    """{"right", "n"} over all pieces and per letter length (2 .. 6+)."""
    out = {"all": {"right": 0, "n": 0}} | {b: {"right": 0, "n": 0} for b in LENGTHS}
    for piece, reply in zip(pieces, replies):
        right = worked_spelling(reply) == piece.lower()
        for key in ("all", length_bin(piece)):
            out[key]["right"] += right
            out[key]["n"] += 1
    return out


def spell_pieces(model, tokenizer, template_kwargs: dict, pieces: dict[str, list[str]], desc: str) -> dict:
    """Covered / uncovered -> tally of exact spellings (greedy; room for a misspelling as long again)."""
    from strawberry.inference import generate_replies  # torch: the page reads this module's tallies without it

    out = {}
    for group, ps in pieces.items():
        prompts = spelling_prompts(tokenizer, ps, template_kwargs)
        limits = [len(ids) * 2 + 4 for ids in tokenizer(["\n".join(letter_lines(p)) for p in ps])["input_ids"]]
        replies = generate_replies(model, tokenizer, prompts, {"do_sample": False, "max_new_tokens": max(limits)},
                                   BATCH_SIZE, 0, f"{desc}: spelling {group} pieces", limits=limits)  # fmt: skip
        out[group] = tally(ps, replies)
    return out


def adapter_at(rev: str, dest: Path) -> Path:
    """An experiment's trained adapter (models/adapter at its git rev), out of this checkout's DVC cache."""
    from dvc.api import DVCFileSystem

    DVCFileSystem(".", rev=rev).get(ADAPTER, str(dest), recursive=True)
    return dest


def add_to_export(path: Path, params: dict) -> dict:
    """Base and the run's adapter spell the drawn pieces, at the run's profile and precision; the result goes into
    the export at `path` (`params`: the run's, nested). Base's replies come from the reply cache after the first."""
    from strawberry.precision import autocast
    from strawberry.profiles import load_model, load_profile, run_precision

    record = json.loads(path.read_text())
    profile = load_profile(params)
    precision = run_precision(profile)
    pieces = drawn_pieces(record["piece_coverage"], params["evaluate"]["seed"])
    result = {"precision": precision, "per_group": PER_GROUP, "shots": list(SHOT_PIECES)}
    with TemporaryDirectory() as tmp, autocast(precision):
        for model_name, adapter in (("base", None), ("tuned", adapter_at(record["rev"], Path(tmp) / "adapter"))):
            model, tokenizer = load_model(profile, adapter=adapter and str(adapter), merge=adapter is not None)
            kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
            result[model_name] = spell_pieces(model, tokenizer, kwargs, pieces, f"{record['name']} {model_name}")
            del model
    record["piece_spelling"] = result
    write_atomic(path, json.dumps(record, sort_keys=True) + "\n")
    return result
