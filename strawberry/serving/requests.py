"""Request bodies of the typed endpoints. FastAPI validates them in the HTTP process, so a bad request gets a 422
naming its field and never reaches (or spoils) a batch."""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

MAX_WORD_LENGTH = 40
WORD = re.compile(r"[A-Za-z]+")
THINKING_REFUSED = ("thinking mode is not supported: strawberry-spelling runs Qwen3 in non-thinking mode only "
                    "(enable_thinking=false)")  # fmt: skip
TUNED_AVAILABLE = True  # set by the server at start-up (before its HTTP processes fork): False without an adapter


class TaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelled field is an error, not silently ignored

    word: str
    model: Literal["base", "tuned"] = "tuned"
    enable_thinking: bool = False
    chat_template_kwargs: dict[str, Any] | None = None

    @field_validator("word")
    @classmethod
    def _word(cls, word: str) -> str:
        if not WORD.fullmatch(word):
            raise ValueError("word must be letters A-Z only (one word, no spaces, digits or punctuation)")
        if len(word) > MAX_WORD_LENGTH:
            raise ValueError(f"word is {len(word)} letters long; the limit is {MAX_WORD_LENGTH}")
        return word.lower()

    @field_validator("model")
    @classmethod
    def _model(cls, model: str) -> str:
        if model == "tuned" and not TUNED_AVAILABLE:
            raise ValueError("this server has no tuned adapter loaded (started with --adapter none): ask model=base")
        return model

    @field_validator("enable_thinking")
    @classmethod
    def _no_thinking(cls, value: bool) -> bool:
        if value:
            raise ValueError(THINKING_REFUSED)
        return value

    @field_validator("chat_template_kwargs")
    @classmethod
    def _no_thinking_kwargs(cls, value: dict | None) -> dict | None:
        if value and value.get("enable_thinking", False) is not False:
            raise ValueError(THINKING_REFUSED)
        return value


class SpellRequest(TaskRequest):
    pass


class PositionRequest(TaskRequest):
    position: int  # 1-based

    @model_validator(mode="after")
    def _inside_word(self) -> "PositionRequest":
        if not 1 <= self.position <= len(self.word):
            raise ValueError(f"position must be between 1 and {len(self.word)} (the length of {self.word!r}); "
                             f"got {self.position}")  # fmt: skip
        return self


class CountRequest(TaskRequest):
    letter: str

    @field_validator("letter")
    @classmethod
    def _one_letter(cls, letter: str) -> str:
        if len(letter) != 1 or not WORD.fullmatch(letter):
            raise ValueError(f"letter must be exactly one letter A-Z; got {letter!r}")
        return letter.lower()
