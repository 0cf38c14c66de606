"""The study: arms x seeds (+ a dose-response run) as DVC experiments, their export, and the page that aggregates them.

`runs` (the plan of runs, the experiment rows of `dvc exp show --json`, the metric keys, the export of a finished
run to metrics/study/<name>.json, committed: the study's record), `statistics` (a bootstrap over seeds and words, and
the reading rule), `page` (an arms × seeds study's page and figure: study v2's design, archived as
docs/study-v2.md), `calibration` and `transfer` (study v3: the gate, the arms and the reading, docs/study.md).
scripts/study.py and scripts/transfer_analysis.py are thin mains over them. This file holds what they share.
"""

from pathlib import Path

PREFIX = "study-"
ARMS = ("spelling", "indexed", "positive_control", "format_control")  # train.arm values, hypothesis arms first
CONTROLS = ("positive_control", "format_control")  # labelled as controls everywhere: never the hypothesis
DOSE_FACTOR = 4  # the dose-response run trains this many times the default steps, snapshots at 1x, 2x, 4x
EXPORTS = Path("metrics/study")


def label(setting: str) -> str:
    """"3shot" -> "direct, 3-shot"; "spell_first_3shot" -> "spell-first, 3-shot"."""
    mode, _, shots = setting.rpartition("_")
    return f"{mode.replace('_', '-') or 'direct'}, {shots.removesuffix('shot')}-shot"
