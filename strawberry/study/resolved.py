"""What a study run actually trains and decodes with: params.yaml, the run's `-S` overrides, then the profile's own
sizes (`profiles.<name>.settings`, which the train and evaluate stages put over their sections). A grid names its
profile and every setting its runs must have, so a profile size that would silently beat a grid key is refused by
name before anything runs, and every export records the settings resolved here."""

from pathlib import Path
from typing import Any

import yaml

from strawberry.profiles import SIZED_STAGES, Profile

DEFAULT_MAX_SEQ_LENGTH = Profile.__dataclass_fields__["max_seq_length"].default


def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """{"train": {"seed": 1}} -> {"train.seed": 1}, as `dvc exp show` flattens params (lists stay values)."""
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        else:
            out[name] = value
    return out


def with_overrides(flat: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Flattened params with `dvc exp run -S key=value` overrides applied (values read as YAML, as DVC does)."""
    out = dict(flat)
    for override in overrides:
        key, _, value = override.partition("=")
        # replaced whole: the key, what it held, and a scalar it goes inside of (DVC refuses that one: a plan shows it)
        out = {k: v for k, v in out.items() if k != key and not k.startswith(f"{key}.") and not key.startswith(f"{k}.")}
        parsed = yaml.safe_load(value) if value else value
        out |= flatten(parsed, f"{key}.") if isinstance(parsed, dict) else {key: parsed}
    return out


def section(flat: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix): v for k, v in flat.items() if k.startswith(prefix)}


def stage_sizes(flat: dict[str, Any], stage: str) -> dict[str, Any]:
    """A stage's section with the active profile's sizes over it (strawberry.profiles.stage_settings, flattened)."""
    profile = flat["model"]
    return section(flat, f"{stage}.") | section(flat, f"profiles.{profile}.settings.{stage}.")


def resolved_settings(flat: dict[str, Any]) -> dict[str, Any]:
    """The settings a run with these (flattened) params trains and decodes with."""
    profile = flat["model"]
    train, evaluate = stage_sizes(flat, "train"), stage_sizes(flat, "evaluate")
    own = section(flat, f"profiles.{profile}.")
    return {"profile": profile, "arm": train.get("arm"), "seed": train.get("seed"), "steps": train["max_steps"],
            "batch_size": train["batch_size"], "grad_accum": train.get("grad_accum", 1),
            "learning_rate": train["learning_rate"], "lr_scheduler": train.get("lr_scheduler"),
            "warmup_steps": train.get("warmup_steps"), "lora_r": flat.get("lora.r"),
            "lora_alpha": flat.get("lora.alpha"), "max_length": train.get("max_length"),
            "max_seq_length": own.get("max_seq_length", DEFAULT_MAX_SEQ_LENGTH),
            "precision_setting": own.get("precision", "auto"), "load_in_4bit": own.get("load_in_4bit", False),
            "decoding": section(flat, f"profiles.{profile}.generation."),
            "eval_batch_size": evaluate.get("batch_size")}  # fmt: skip


def sized_by_profile(flat: dict[str, Any], overrides: list[str]) -> list[tuple[str, str, str]]:
    """(key, value, the profile's own key) of each override that the active profile's sizes also set."""
    found = []
    for override in overrides:
        key, _, value = override.partition("=")
        stage, _, name = key.partition(".")
        own = f"profiles.{flat['model']}.settings.{stage}.{name}"
        if stage in SIZED_STAGES and own in flat:
            found.append((key, value, own))
    return found


def profile_conflicts(flat: dict[str, Any], overrides: list[str]) -> list[str]:
    """The grid's keys that the profile's own sizes would override with another value, each as a sentence."""
    return [f"{key}={value} is overridden by profile {flat['model']}'s settings ({own}={flat[own]})"
            for key, value, own in sized_by_profile(flat, overrides) if flat[own] != yaml.safe_load(value)]


def check_grid(path: Path, params: dict, overrides_per_cell: list[list[str]]) -> None:
    """Refuses a grid that names no profile, or one whose keys the profile's sizes would silently override."""
    for overrides in overrides_per_cell:
        if not any(o.startswith("model=") for o in overrides):
            raise SystemExit(f"{path}: a study grid names its profile: add `model: <profile>` to its `set:`")
        flat = with_overrides(flatten(params), overrides)
        if flat["model"] not in params.get("profiles", {}):
            raise SystemExit(f"{path}: model={flat['model']} is not a profile of params.yaml")
        if conflicts := profile_conflicts(flat, overrides):
            profile = flat["model"]
            raise SystemExit(f"{path}: " + "; ".join(conflicts) + f". A grid wins over nothing silently: set the "
                             f"value in the grid as profiles.{profile}.settings.<stage>.<key> too, or drop the key "
                             "from the grid")  # fmt: skip


def unflatten(flat: dict[str, Any]) -> dict:
    """{"train.seed": 1} -> {"train": {"seed": 1}}."""
    out: dict = {}
    for key, value in flat.items():
        node = out
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def cell_params(params: dict, overrides: list[str]) -> dict:
    """params.yaml as a cell's run sees it: its `-S` overrides applied (nested, as the stages load it)."""
    return unflatten(with_overrides(flatten(params), overrides))


def pinned(overrides: list[str], params: dict) -> list[str]:
    """`overrides` with the active profile's own sizes set to the same values wherever they would override one
    (`-S profiles.<p>.settings.<stage>.<key>=<value>` added): the grid's values win, visibly."""
    flat = with_overrides(flatten(params), overrides)
    return overrides + [f"{own}={value}" for _, value, own in sized_by_profile(flat, overrides)]
