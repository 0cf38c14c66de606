"""One logging setup for every stage script."""

import logging


def get_logger(stage: str) -> logging.Logger:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # its category-axis notices are noise here
    return logging.getLogger(stage)
