"""Rendering Alpaca records as chat prompts with the model's own chat template. Non-thinking mode only."""

from typing import Any


class ThinkingModeError(ValueError):
    """Thinking mode was requested; this project evaluates and trains Qwen3 in non-thinking mode only."""


def chat_template_kwargs(tokenizer, requested: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for apply_chat_template: refuse any request for thinking, and switch thinking off
    explicitly for templates that know the switch (Qwen3's)."""
    kwargs = dict(requested or {})
    if kwargs.get("enable_thinking", False) is not False:
        raise ThinkingModeError(
            f"enable_thinking={kwargs['enable_thinking']!r} requested: strawberry-spelling runs Qwen3 in "
            "non-thinking mode only (enable_thinking=False); remove the setting"
        )
    if "enable_thinking" in (tokenizer.chat_template or ""):
        kwargs["enable_thinking"] = False
    return kwargs


def user_message(record: dict) -> str:
    """The user turn of an Alpaca record: the instruction, plus the input when there is one."""
    return record["instruction"] + (f"\n\n{record['input']}" if record["input"] else "")


def render_prompt(tokenizer, record: dict, shots: list[dict] = (), template_kwargs: dict | None = None) -> str:
    """The prompt text the model completes: worked examples (`shots`, as earlier chat turns), then the
    record's question, then the assistant header. Training and evaluation both use this function."""
    kwargs = chat_template_kwargs(tokenizer, template_kwargs)
    return tokenizer.apply_chat_template(chat_messages(record, shots), tokenize=False, add_generation_prompt=True,
                                         **kwargs)  # fmt: skip


def chat_messages(record: dict, shots: list[dict] = ()) -> list[dict[str, str]]:
    """The chat turns of a prompt: each worked example as a user/assistant pair, then the question. A remote
    OpenAI-compatible server is sent exactly these, so it renders the same prompt as render_prompt."""
    messages = []
    for shot in shots:
        messages += [{"role": "user", "content": user_message(shot)}, {"role": "assistant", "content": shot["output"]}]
    messages.append({"role": "user", "content": user_message(record)})
    return messages
