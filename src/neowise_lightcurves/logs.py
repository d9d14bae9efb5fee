"""Logging for workflow jobs: each job's messages go to its Snakemake ``log:`` file."""

from __future__ import annotations

import logging
import os


def to_file(path: str | os.PathLike | None, level: int = logging.INFO) -> logging.Logger:
    """Send this process's log records to ``path`` (the rule's ``log:``) and return a logger."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if path:
        os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return logging.getLogger("neowise_lightcurves")
