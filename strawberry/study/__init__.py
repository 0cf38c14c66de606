"""A study: the cells of a grid file (one profile) as DVC experiments, their exports, and the page that reads them.

`resolved` (what a run trains and decodes with; grids checked against the profile), `runs` (the rows of `dvc exp
show --json`, the export of a finished run to metrics/study/<cell>.json — committed: the study's record — and the
exports of one grid and profile), `statistics` (the cluster bootstrap, Holm, the seed-level tests), `gate` (step 1:
the calibration gate and the arms' recipe check), `reading` (step 2: the pre-registered rule and the same rule at the
seed level), `diagnostics` (what never decides), `page` (docs/study.md and its figures). scripts/study.py is a thin
main over them; strawberry/cells.py runs one cell as a GPU job.
"""

from pathlib import Path

EXPORTS = Path("metrics/study")
