"""Imports Unsloth before transformers, TRL and PEFT when the active profile trains or generates through it.

Unsloth patches those libraries when it is imported, so it must come first: imported after them it warns and runs
unpatched (slower, sometimes wrong). The train and evaluate stages import this module before anything else, so the
stage path is the one Unsloth expects. Where Unsloth is not installed (every CPU machine: it is never installed
there) nothing is imported, and a GPU profile stops later with GpuRequiredError, before loading anything.
"""

import importlib.util
import sys

from strawberry.params import PARAMS_FILE, load_params

PATCHED = ("transformers", "trl", "peft")  # what Unsloth patches on import


class ImportOrderError(RuntimeError):
    """A library Unsloth patches was imported before Unsloth."""


def import_unsloth_first(params: dict) -> bool:
    """Import Unsloth when the active profile's backend is unsloth and it is installed; True when it was."""
    profile = params.get("profiles", {}).get(params.get("model"), {})
    if profile.get("backend") != "unsloth" or importlib.util.find_spec("unsloth") is None:
        return False
    early = [name for name in PATCHED if name in sys.modules]
    if early:
        raise ImportOrderError(f"{', '.join(early)} imported before unsloth: Unsloth patches them only when it is "
                               "imported first (import strawberry.unsloth_first before anything else)")  # fmt: skip
    import unsloth  # noqa: F401

    return True


if PARAMS_FILE.is_file():  # a stage runs in the project's root; elsewhere (a script importing a stage) nothing to do
    import_unsloth_first(load_params())
