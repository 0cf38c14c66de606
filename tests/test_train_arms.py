"""The training set of each arm: study v3's mixed arms add one pass over their added part to the worked control."""

import pytest

CFG = {"arm": "worked_control", "max_steps": 5, "batch_size": 4, "grad_accum": 1, "seed": 3, "eval_steps": 5,
       "patience": 5}  # fmt: skip


@pytest.fixture
def worked(tmp_path, monkeypatch) -> list[dict]:
    """100 worked-control records in data/splits of a fresh folder (the cwd); each test writes its added part."""
    from strawberry.jsonl import write_jsonl

    monkeypatch.chdir(tmp_path)
    records = [{"instruction": f"w{i}", "output": "x"} for i in range(100)]
    write_jsonl("data/splits/train_worked_control.jsonl", records)
    return records


def test_a_mixed_arm_is_the_worked_controls_records_plus_one_pass_over_its_added_part(worked):
    """train.arm worked_spelling: exactly the records the worked control's run of max_steps sees, plus every
    coverage record once; the steps grow by the added part's batches, and a run validated at its end stays so."""
    from stages.train import training_set
    from strawberry.jsonl import write_jsonl
    from strawberry.training import records_needed

    coverage = [{"instruction": f"c{i}", "output": "y"} for i in range(21)]
    write_jsonl("data/splits/train_coverage.jsonl", coverage)
    cfg = CFG
    alone, alone_cfg, _ = training_set(cfg)
    mixed, mixed_cfg, files = training_set({**cfg, "arm": "worked_spelling"})
    assert alone == records_needed(worked, cfg) and len(alone) == 20 and alone_cfg == cfg
    assert mixed == alone + coverage and "data/splits/train_coverage.jsonl" in files
    assert mixed_cfg["max_steps"] == 5 + 6 == mixed_cfg["eval_steps"] == mixed_cfg["patience"]  # ceil(21 / 4) = 6
    kept = training_set({**cfg, "arm": "worked_spelling", "eval_steps": 2, "patience": 3})[1]
    assert (kept["eval_steps"], kept["patience"]) == (2, 3)
    with pytest.raises(ValueError, match="train.arm='spelling_b'"):
        training_set({**cfg, "arm": "spelling_b"})


def test_study_v4_arms_s_and_p_train_on_the_piece_spelling(worked):
    """Study v4: S (worked_piece_spelling) is the worked control's records plus one pass over the numbered piece
    spellings; P (piece_spelling) is that pass alone, max_steps then counting nothing of a worked part."""
    from stages.train import training_set
    from strawberry.jsonl import write_jsonl

    pieces = [{"instruction": f"p{i}", "output": "1: a"} for i in range(10)]
    write_jsonl("data/splits/train_piece_spelling.jsonl", pieces)
    cfg = CFG
    alone = training_set(cfg)[0]
    s_records, s_cfg, s_files = training_set({**cfg, "arm": "worked_piece_spelling"})
    p_records, p_cfg, p_files = training_set({**cfg, "arm": "piece_spelling"})
    assert s_records == alone + pieces and s_cfg["max_steps"] == 5 + 3
    assert p_records == pieces and p_cfg["max_steps"] == 3 and "data/splits/train_worked_control.jsonl" not in p_files
