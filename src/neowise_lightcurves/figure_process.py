"""The one job's figures (``one_job: true``), drawn by a Python process of its own.

Started first thing in the job, the process loads pandas, pyarrow and matplotlib (~0.9 s of CPU)
on a core the job leaves idle while it loads its own modules, reads the targets and waits on its
first requests; then it waits for :meth:`FigureProcess.draw`, which hands it the summary once
the light curves are written. The figures then cost the job their drawing only, not
matplotlib's import (0.3-0.4 s of a one-job run's wall time; measured: benchmarks/README.md,
"The whole run in one job").

This module imports nothing but the standard library, so the job's script can start the
process before its own imports.
"""

from __future__ import annotations

import json
import subprocess
import sys


class FigureProcessFailed(RuntimeError):
    """The figure process ended without drawing; its reason is in the job's log."""


class FigureProcess:
    """A Python process that loads matplotlib now and draws the run's figures when asked.

    Used as a context manager: leaving the block without :meth:`draw` (the job failed first)
    ends the process without drawing.
    """

    def __init__(self, log_path: str | None) -> None:
        self.log_path = log_path  # the job's: the process adds its lines to it
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, text=True
        )

    def draw(self, plots: dict, overview: dict) -> None:
        """Draw the figures: :func:`~neowise_lightcurves.stages.plots` with the keywords
        ``plots`` and :func:`~neowise_lightcurves.stages.overview` with ``overview``, their
        log lines added to the job's log. Waits until they are written; raises
        :class:`FigureProcessFailed` if the process failed."""
        request = {"log": self.log_path, "plots": plots, "overview": overview}
        self._proc.communicate(json.dumps(request))
        if self._proc.returncode:
            raise FigureProcessFailed(
                f"the figure process failed (exit status {self._proc.returncode}); its "
                "reason is above in the log"
            )

    def close(self) -> None:
        """End the process if it has not drawn (an empty request)."""
        if self._proc.returncode is None:
            self._proc.communicate("")

    def __enter__(self) -> FigureProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> int:
    """The process: load what drawing needs, wait for one request on stdin, draw it."""
    from . import plots as nl_plots
    from . import stages

    nl_plots.pyplot()  # matplotlib, loaded while the job works
    text = sys.stdin.read()
    if not text:
        return 0  # the job ended without asking
    from . import logs

    request = json.loads(text)
    logs.to_file(request["log"], append=True)  # the job's log
    stages.plots(**request["plots"])
    stages.overview(**request["overview"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
