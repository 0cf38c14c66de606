"""Assemble (and on request upload) the adapter and the dataset with Hugging Face cards.

    .venv/bin/python -m scripts.publish [--exp NAME] [--out publish]              # dry run: writes folders
    HF_TOKEN=... .venv/bin/python -m scripts.publish --upload --repo-id you/strawberry-lora \\
        --dataset-repo-id you/strawberry-spelling

Outside the DVC pipeline because uploading has side effects. Every number in the model card comes from the
run's metrics/eval_details.json (the workspace, or a DVC experiment with --exp).
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import dvc.api

from strawberry.cards import dataset_card, model_card
from strawberry.dvc_cli import dvc_run
from strawberry.profiles import load_profile

SPLITS = ("train", "train_format_control", "val", "test")
DETAILS = "metrics/eval_details.json"
TRAIN_METRICS = "metrics/train.json"  # the training run's software versions


def assemble(out: Path, exp: str | None) -> tuple[Path, Path]:
    params = dvc.api.params_show("params.yaml", rev=exp) if exp else _yaml()
    profile = load_profile(params)
    with dvc.api.open(DETAILS, rev=exp) if exp else open(DETAILS) as f:
        metrics = json.load(f)
    with dvc.api.open(TRAIN_METRICS, rev=exp) if exp else open(TRAIN_METRICS) as f:
        versions = json.load(f).get("versions")
    model_dir, data_dir = out / "model", out / "dataset"
    shutil.rmtree(out, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if exp:
        dvc_run("get", ".", "models/adapter", "--rev", exp, "-o", str(model_dir), check=True)
    else:
        shutil.copytree("models/adapter", model_dir)
    name = f"strawberry-spelling-{profile.name}-{params['train']['arm']}"
    model_card(metrics, profile, name, versions).save(model_dir / "README.md")
    sizes = {}
    for split in SPLITS:
        shutil.copy(f"data/splits/{split}.jsonl", data_dir / f"{split}.jsonl")
        with open(data_dir / f"{split}.jsonl") as f:
            sizes[split] = sum(1 for _ in f)
    dataset_card(sizes).save(data_dir / "README.md")
    return model_dir, data_dir


def _yaml() -> dict:
    import yaml

    with open("params.yaml") as f:
        return yaml.safe_load(f)


def upload(model_dir: Path, data_dir: Path, repo_id: str, dataset_repo_id: str | None) -> None:
    token = os.environ.get("HF_TOKEN")
    if not token:
        sys.exit("--upload needs a Hugging Face token in HF_TOKEN (https://huggingface.co/settings/tokens); "
                 "nothing was uploaded")  # fmt: skip
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, exist_ok=True)
    api.upload_folder(folder_path=str(model_dir), repo_id=repo_id, commit_message="strawberry-spelling adapter")
    if dataset_repo_id:
        api.create_repo(dataset_repo_id, repo_type="dataset", exist_ok=True)
        api.upload_folder(folder_path=str(data_dir), repo_id=dataset_repo_id, repo_type="dataset")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exp", help="a DVC experiment (default: the workspace)")
    parser.add_argument("--out", type=Path, default=Path("publish"))
    parser.add_argument("--upload", action="store_true")
    parser.add_argument("--repo-id")
    parser.add_argument("--dataset-repo-id")
    args = parser.parse_args(argv)
    if args.upload and not args.repo_id:
        parser.error("--upload needs --repo-id")
    model_dir, data_dir = assemble(args.out, args.exp)
    print(f"model folder: {model_dir}\ndataset folder: {data_dir}")
    if args.upload:
        upload(model_dir, data_dir, args.repo_id, args.dataset_repo_id)
        print(f"uploaded to https://huggingface.co/{args.repo_id}")


if __name__ == "__main__":
    main()
