"""Logging for workflow jobs: each job's messages go to its Snakemake ``log:`` file, and so does
the reason it failed.

A job that raises leaves, in its log, one ``ERROR`` line with the rule's job and the reason (the
exception's message, which names the path, target or key), then the traceback: on a cluster the
log is what is left of a failed job.

A job's last line says where its process's CPU time went (:data:`CPU_LINE`): its start-up (the
interpreter, Snakemake's script preamble and the imports, until :func:`to_file` is called) and
its work (the rest); ``benchmarks/object_store.py`` sums them over a run.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time

from . import exits

#: The last line of a job's log: its process's CPU seconds, start-up and work.
CPU_LINE = "process CPU: start-up {start:.3f} s, work {work:.3f} s"


def to_file(path: str | os.PathLike | None, level: int = logging.INFO) -> logging.Logger:
    """Send this process's log records to ``path`` (the rule's ``log:``) and to stderr, and log
    an uncaught exception there too before the process exits; returns a logger."""
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
    log = logging.getLogger("neowise_lightcurves")

    def log_failure(kind, error, tb):
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.error("failed: %s: %s", kind.__name__, error, exc_info=(kind, error, tb))

    sys.excepthook = log_failure
    start = time.process_time()
    atexit.register(
        lambda: log.info(CPU_LINE.format(start=start, work=time.process_time() - start))
    )
    # a job's outputs are written and closed by the time it exits: skip the interpreter's
    # final collections (~0.25 s of CPU a job)
    exits.skip_final_collections()
    return log
