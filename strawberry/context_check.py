"""Does the model's context hold what a run will send? The longest prompt the evaluation renders (every setting's
questions with their worked examples, as `strawberry.evaluation.answer_all` asks them) plus the reply it allows,
against the profile's `max_seq_length` (Unsloth sizes the model's context by it; the transformers backend takes the
model's own). Checked before a GPU starts
(`scripts.preflight`, `scripts.study plan`), never discovered as a truncated prompt mid-run."""

from dataclasses import dataclass

from strawberry.answer_modes import in_mode, load_mode_templates, reply_limit, reply_limits
from strawberry.asking import shot_draws
from strawberry.evaluation import TEMPLATES, VAL, question_sets, setting_key, settings
from strawberry.jsonl import read_jsonl
from strawberry.profiles import Profile
from strawberry.prompts import render_prompt


class ContextTooShortError(ValueError):
    """The profile's max_seq_length cannot hold a prompt and reply the run will send."""


@dataclass(frozen=True)
class Longest:
    prompt_tokens: int
    reply_tokens: int
    setting: str
    word: str

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.reply_tokens


def longest_sequence(tokenizer, profile: Profile, cfg: dict, template_kwargs: dict) -> Longest:
    """The longest prompt + reply limit over every question set and setting of the evaluate section `cfg` (with the
    profile's sizes applied), each question with the worked-example draw `ask` gives it."""
    val = read_jsonl(VAL)
    by_mode = load_mode_templates(TEMPLATES)
    found = Longest(0, 0, "", "")
    for questions in question_sets(cfg).values():
        for mode, k in settings(cfg):
            asked, draws = in_mode(questions, shot_draws(val, k, cfg["seed"], cfg.get("shot_draws", 1)), mode,
                                   by_mode)  # fmt: skip
            if not asked:
                continue
            turn: dict[str, int] = {}
            prompts = []
            for q in asked:  # a task's questions take the draws in turn, as asking.ask does
                task = q["meta"]["task"]
                prompts.append(render_prompt(tokenizer, q, draws[turn.get(task, 0) % len(draws)][task],
                                             template_kwargs))  # fmt: skip
                turn[task] = turn.get(task, 0) + 1
            lengths = [len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]]
            limits = reply_limits(tokenizer, asked, mode) or [
                reply_limit(tokenizer, asked, profile.generation, mode)["max_new_tokens"]] * len(asked)
            i = max(range(len(asked)), key=lambda j: lengths[j] + limits[j])
            if lengths[i] + limits[i] > found.total:
                found = Longest(lengths[i], limits[i], setting_key(mode, k), asked[i]["meta"]["word"])
    return found


def check_context(tokenizer, profile: Profile, cfg: dict, template_kwargs: dict, train_max_length: int) -> str:
    """What the run needs against what the profile holds; ContextTooShortError naming both numbers."""
    longest = longest_sequence(tokenizer, profile, cfg, template_kwargs)
    need = max(longest.total, train_max_length)
    what = (f"the longest evaluation prompt is {longest.prompt_tokens} tokens ({longest.setting}, the word "
            f"'{longest.word}') plus a reply of up to {longest.reply_tokens}: {longest.total} tokens; training "
            f"sequences up to train.max_length {train_max_length}")  # fmt: skip
    if profile.backend != "unsloth":  # only Unsloth sizes the model's context by max_seq_length
        return f"needs {need} tokens; backend {profile.backend} takes the model's own context ({what})"
    if need > profile.max_seq_length:
        raise ContextTooShortError(f"profile {profile.name}: max_seq_length {profile.max_seq_length} cannot hold "
                                   f"{need} tokens: {what}. Raise profiles.{profile.name}.max_seq_length to at least "
                                   f"{need}")  # fmt: skip
    return f"max_seq_length {profile.max_seq_length} holds {need} tokens ({what})"


def asked_replies(tokenizer, profile: Profile, cfg: dict) -> tuple[int, float]:
    """(test questions asked, mean reply limit in tokens over the settings' questions): what a plan counts."""
    questions = question_sets(cfg)["test"]
    by_mode = load_mode_templates(TEMPLATES)
    limits: list[int] = []
    for mode, _ in settings(cfg):
        asked, _ = in_mode(questions, [], mode, by_mode)
        limits += reply_limits(tokenizer, asked, mode) or [
            reply_limit(tokenizer, asked, profile.generation, mode)["max_new_tokens"]] * len(asked)
    return len(questions), sum(limits) / max(1, len(limits))
