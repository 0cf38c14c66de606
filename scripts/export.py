"""Export the tuned model as a merged safetensors model (no PEFT needed to load it).

    .venv/bin/python -m scripts.export                                  # models/adapter -> publish/merged
    .venv/bin/python -m scripts.export --adapter path/to/adapter --out merged-model

GGUF for Ollama / llama.cpp: convert the merged folder with llama.cpp's converter (docs/deployment.md).
"""

import argparse
from pathlib import Path

from strawberry.params import load_params
from strawberry.profiles import load_profile
from strawberry.serving.export import export_merged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapter", default="models/adapter")
    parser.add_argument("--out", type=Path, default=Path("publish/merged"))
    parser.add_argument("--profile", help="a profile of params.yaml (default: its `model`)")
    args = parser.parse_args(argv)
    params = load_params()
    profile = load_profile({**params, "model": args.profile or params["model"]})
    print(f"merged model -> {export_merged(profile, args.adapter, args.out)}")


if __name__ == "__main__":
    main()
