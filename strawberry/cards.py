"""Hugging Face model and dataset cards, with every number taken from metrics/eval_details.json."""

from huggingface_hub import DatasetCard, DatasetCardData, EvalResult, ModelCard, ModelCardData

from strawberry.profiles import Profile

DATASET_ID = "strawberry-spelling"

MODEL_CARD = """---
{{ card_data }}
---

# {{ name }}

A LoRA adapter for `{{ base_model }}` trained **only on spelling** the English tokens of the Qwen3 vocabulary
("Spell 'straw'." -> "s t r a w", many phrasings, separators and directions), to test whether that helps
letter-position and letter-count questions about held-out multi-token words. Spelling is training data only;
the evaluation below is position, count and length.

- Chat: the model's own chat template, **non-thinking mode only** (Qwen3: `enable_thinking=False`, enforced).
- Decoding: {{ decoding }}.
- Precision of training and evaluation: {{ precision }} (on a CPU, bf16 autocast keeps fp32 weights and adapter).
- Software of the training run: {{ software }}.
- Training data: the English token subset of the Qwen3 tokenizer (tokens whose text without the leading-space
  marker is 2+ ASCII letters), rendered from templates as Alpaca records; loss on the completion only.
- Evaluation: the same held-out test questions for base and tuned models (words that Qwen3 splits into 2+
  tokens in the prompt and that are no training token), zero-shot and k-shot with worked examples from val
  words, lenient answer parsing, Wilson 95% intervals, exact McNemar tests.

## Results (from metrics/eval_details.json)

| task | shots | base | tuned | tuned - base | McNemar p | best constant strategy |
|---|---|---|---|---|---|---|
{% for row in rows -%}
| {{ row.task }} | {{ row.shots }} | {{ row.base }} | {{ row.tuned }} | {{ row.delta }} | {{ row.p }} | {{ row.chance }} |
{% endfor %}
{{ caveat }}
"""

DATASET_CARD = """---
{{ card_data }}
---

# strawberry-spelling data

Alpaca JSON Lines (`instruction`, `input`, `output`, `meta`) built from the Qwen3 tokenizer and Webster's web2
word list. `train`: spelling records of English vocabulary tokens (the only training data).
`train_format_control`: the same prompts with wrong letters of the right shape (a control arm).
`val`/`test`: letter-position, letter-count and word-length questions about dictionary words that Qwen3 splits
into 2+ tokens in the prompt, split by word. Sizes: {{ sizes }}.
"""


def _fmt(entry: dict) -> str:
    return f"{entry['accuracy']:.3f} [{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]"


def base_model_id(profile: Profile) -> str:
    return profile.model_id or profile.upstream or f"random {profile.name}"


def model_card(metrics: dict, profile: Profile, name: str, versions: dict | None = None) -> ModelCard:
    """The adapter's model card: YAML metadata with model-index results for position and count; `versions` are
    the training run's software (metrics/train.json)."""
    test = metrics["test"]
    results, rows = [], []
    for task in ("position", "count", "length"):
        for shots in metrics.get("settings") or sorted(k for k in test[task] if k.endswith("shot")):
            if shots not in test[task]:
                continue  # a setting that does not ask this task (spell_first: no length questions)
            entry = test[task][shots]
            for arm in ("base", "tuned"):
                results.append(EvalResult(
                    task_type="text-generation", task_name=f"letter {task}", dataset_type=DATASET_ID,
                    dataset_name=f"{DATASET_ID} test", dataset_split="test", metric_type="accuracy",
                    metric_value=entry[arm]["accuracy"], metric_name=f"{arm} {shots} {task} accuracy"))  # fmt: skip
            rows.append({"task": task, "shots": shots.removesuffix("shot").replace("_", " "), "base": _fmt(entry["base"]),
                         "tuned": _fmt(entry["tuned"]), "delta": f"{entry['delta']:+.3f}",
                         "p": f"{entry['mcnemar_p']:.3g}",
                         "chance": f"{test[task]['strategy_baseline']['accuracy']:.3f}"})  # fmt: skip
    data = ModelCardData(
        base_model=base_model_id(profile), library_name="peft", license="apache-2.0", language=["en"],
        datasets=[DATASET_ID], tags=["lora", "peft", "spelling", "character-level", "qwen3", "non-thinking"],
        model_name=name, eval_results=results, pipeline_tag="text-generation")  # fmt: skip
    decoding = ", ".join(f"{k}={v}" for k, v in profile.generation.items())
    caveat = ("" if profile.name == "qwen3-4b" else f"These numbers come from the `{profile.name}` profile, a stand-in "
              "that exercises the pipeline; they are not the answer for Qwen3-4B.")  # fmt: skip
    software = ", ".join(f"{k} {v}" for k, v in (versions or {}).items() if v) or "not recorded"
    return ModelCard.from_template(data, template_str=MODEL_CARD, name=name, base_model=data.base_model,
                                   decoding=decoding, precision=metrics.get("precision", "fp32"), rows=rows,
                                   software=software, caveat=caveat)  # fmt: skip


def dataset_card(sizes: dict[str, int]) -> DatasetCard:
    configs = [{"config_name": "default", "data_files": [{"split": s, "path": f"{s}.jsonl"} for s in sizes]}]
    from datasets import DatasetInfo

    from strawberry.records import hf_features

    # Declared column types: a column that is null throughout one split (meta.letter in train) cannot be inferred.
    data = DatasetCardData(language=["en"], license="mit", task_categories=["text-generation"],
                           tags=["spelling", "character-level", "alpaca", "qwen3"], configs=configs,
                           pretty_name="strawberry-spelling",
                           dataset_info=DatasetInfo(features=hf_features())._to_yaml_dict())  # fmt: skip
    return DatasetCard.from_template(data, template_str=DATASET_CARD,
                                     sizes=", ".join(f"{s} {n:,}" for s, n in sizes.items()))  # fmt: skip
