"""Does the model's context hold what a run will send? The longest prompt the evaluation renders (every setting's
questions with their worked examples, as `strawberry.evaluation.answer_all` asks them) plus the reply it allows,
against the profile's `max_seq_length` (Unsloth sizes the model's context by it; the transformers backend takes the
model's own). Checked before a GPU starts
(`scripts.preflight`, `scripts.study plan`), never discovered as a truncated prompt mid-run."""

from dataclasses import dataclass

from strawberry.answer_modes import in_mode, load_mode_templates, mode_generation, worked_reply_limits
from strawberry.asking import shot_draws
from strawberry.evaluation import TEMPLATES, VAL, question_sets, setting_key, settings
from strawberry.jsonl import read_jsonl
from strawberry.profiles import Profile
from strawberry.prompts import render_prompt


class ContextTooShortError(ValueError):
    """The profile's max_seq_length cannot hold a prompt and reply the run will send."""


@dataclass(frozen=True)
class Need:
    """What the evaluation sends: its longest prompt + reply limit, and the test questions with their mean limit."""

    prompt_tokens: int
    reply_tokens: int
    setting: str
    word: str
    test_questions: int
    mean_test_reply: float

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.reply_tokens


def measure(tokenizer, profile: Profile, cfg: dict, template_kwargs: dict) -> Need:
    """Every prompt of every question set and setting of the evaluate section `cfg` (with the profile's sizes
    applied), each question with the worked-example draw `ask` gives it, and its reply limit, in one pass."""
    val = read_jsonl(VAL)
    by_mode = load_mode_templates(TEMPLATES)
    longest = (0, 0, "", "")
    test_limits: list[int] = []
    sets = question_sets(cfg)
    for set_name, questions in sets.items():
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
            limits = worked_reply_limits(tokenizer, asked, mode) or [
                mode_generation(tokenizer, asked, profile.generation, mode)["max_new_tokens"]] * len(asked)
            if set_name == "test":
                test_limits += limits
            i = max(range(len(asked)), key=lambda j: lengths[j] + limits[j])
            if lengths[i] + limits[i] > longest[0] + longest[1]:
                longest = (lengths[i], limits[i], setting_key(mode, k), asked[i]["meta"]["word"])
    return Need(*longest, len(sets["test"]), sum(test_limits) / max(1, len(test_limits)))


def check_context(tokenizer, params: dict, profile: Profile) -> tuple[str, Need]:
    """What a run with these params needs against what the profile holds (ContextTooShortError naming both
    numbers), and the measurement it rests on."""
    from strawberry.profiles import stage_settings
    from strawberry.prompts import chat_template_kwargs

    kwargs = chat_template_kwargs(tokenizer, profile.chat_template_kwargs)
    need = measure(tokenizer, profile, stage_settings(params, profile, "evaluate"), kwargs)
    train_max_length = stage_settings(params, profile, "train")["max_length"]
    tokens = max(need.total, train_max_length)
    what = (f"the longest evaluation prompt is {need.prompt_tokens} tokens ({need.setting}, the word "
            f"'{need.word}') plus a reply of up to {need.reply_tokens}: {need.total} tokens; training "
            f"sequences up to train.max_length {train_max_length}")  # fmt: skip
    if profile.backend != "unsloth":  # only Unsloth sizes the model's context by max_seq_length
        return f"needs {tokens} tokens; backend {profile.backend} takes the model's own context ({what})", need
    if tokens > profile.max_seq_length:
        raise ContextTooShortError(f"profile {profile.name}: max_seq_length {profile.max_seq_length} cannot hold "
                                   f"{tokens} tokens: {what}. Raise profiles.{profile.name}.max_seq_length to at "
                                   f"least {tokens}")  # fmt: skip
    return f"max_seq_length {profile.max_seq_length} holds {tokens} tokens ({what})", need
