"""Resuming from a checkpoint folder that moved keeps the trainer's record of its best checkpoint."""

import json

from strawberry.training import COMPLETE, last_complete_checkpoint


def checkpoint(folder, step: int, best: str | None, complete: bool = True):
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step, "best_metric": 0.34,
                                                         "best_model_checkpoint": best}))  # fmt: skip
    if complete:
        (path / COMPLETE).write_text(f"step {step}\n")
    return path


def best_of(path) -> str | None:
    return json.loads((path / "trainer_state.json").read_text())["best_model_checkpoint"]


def test_a_moved_folder_points_the_best_checkpoint_here(tmp_path):
    moved = tmp_path / "volume" / "5a95d9196740f0b8"
    checkpoint(moved, 20, "models/checkpoints/5a95d9196740f0b8/checkpoint-20")
    newest = checkpoint(moved, 40, "models/checkpoints/5a95d9196740f0b8/checkpoint-20")
    checkpoint(moved, 60, None, complete=False)  # cut off mid-write: not resumed from
    assert last_complete_checkpoint(moved) == str(newest)
    assert best_of(newest) == str(moved / "checkpoint-20")  # the trainer finds it and keeps it as the best


def test_a_best_checkpoint_that_is_gone_is_left_alone(tmp_path):
    newest = checkpoint(tmp_path, 40, "elsewhere/checkpoint-20")  # checkpoint-20 was deleted (save_total_limit)
    assert last_complete_checkpoint(tmp_path) == str(newest)
    assert best_of(newest) == "elsewhere/checkpoint-20"  # the trainer warns and forgets it, as before
    same = checkpoint(tmp_path / "b", 8, str(tmp_path / "b"))  # an existing path is not touched
    last_complete_checkpoint(tmp_path / "b")
    assert best_of(same) == str(tmp_path / "b")

