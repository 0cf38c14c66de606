"""The training arms: which file each `train.arm` trains on. The same registry serves the train stage and the study's
plan (which counts an arm's steps without loading a model), so it imports nothing heavy."""

TRAIN_FILES = {  # train.arm -> its training file (data/splits, all of the same size)
    "spelling": "data/splits/train.jsonl",
    "indexed": "data/splits/train_indexed.jsonl",
    "format_control": "data/splits/train_format_control.jsonl",
    "positive_control": "data/splits/train_positive_control.jsonl",
    "worked_control": "data/splits/train_worked_control.jsonl",
}
# study v3's mixed arms: the worked control's records (exactly those its run of train.max_steps sees) plus one pass
# over an added part, so train.max_steps counts the worked part and the run takes the added part's steps on top
ADDED_PARTS = {
    "worked_spelling": ("worked_control", ["data/splits/train_coverage.jsonl"]),  # own-token spelling of pieces
    "worked_format": ("worked_control", ["data/splits/train_coverage_control.jsonl"]),  # its format control
    # arm D: no worked part; the coverage set and the base model's own replies (stage replay) in one pass
    "spelling_replay": (None, ["data/splits/train_coverage.jsonl", "data/replay/replay.jsonl"]),
    # study v4 (docs/study-v4-plan.md): S, the worked Q&A plus one pass over the covered pieces' numbered spellings;
    # P, those spellings alone (no replay)
    "worked_piece_spelling": ("worked_control", ["data/splits/train_piece_spelling.jsonl"]),
    "piece_spelling": (None, ["data/splits/train_piece_spelling.jsonl"]),
}
