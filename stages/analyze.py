"""Stage analyze: data metrics (sizes, balance) and data plots of the splits."""

from pathlib import Path

from strawberry.data_report import data_metrics, plot_eval_questions, plot_spelling_balance
from strawberry.jsonl import read_jsonl, write_json
from strawberry.logs import get_logger
from strawberry.params import load_params

PLOTS_DIR = Path("plots/data")


def main() -> None:
    log = get_logger("analyze")
    params = load_params()["analyze"]
    splits = {name: read_jsonl(f"data/splits/{name}.jsonl") for name in ("train", "val", "test")}
    metrics = data_metrics(splits)
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    plot_spelling_balance(metrics, PLOTS_DIR / "spelling_balance.png", params["dpi"])
    plot_eval_questions(splits, PLOTS_DIR / "eval_questions.png", params["dpi"])
    write_json("metrics/data.json", metrics)
    log.info("sizes %s; plots in %s", metrics["size"], PLOTS_DIR)


if __name__ == "__main__":
    main()
