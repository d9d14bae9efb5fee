"""A process that ends as soon as its work is done: Snakemake's own (the Snakefile's
``onsuccess:`` and ``onerror:`` hooks call :func:`end_of_run`) and each job's
(:func:`~neowise_lightcurves.logs.to_file` arranges :func:`skip_final_collections`).

Measured on a one-job run of 24 targets (benchmarks/README.md, "The whole run in one job"): the
end of a run, from the job's last log line to the ``snakemake`` command's exit, took 1.5 s; with
these, 0.1-0.2 s.
"""

import atexit
import gc
import threading

#: Where Snakemake's job scheduler defines the timers :func:`release_scheduler_timers` stops.
SCHEDULER_MODULE = "snakemake.scheduling.job_scheduler"


def release_scheduler_timers() -> int:
    """Cancel the job scheduler's pending re-evaluation timers.

    Each time Snakemake 9's scheduler starts jobs it arms a :class:`threading.Timer` of
    ``--max-jobs-per-timespan``'s timespan (1 s by default) to look again. The timer is not a
    daemon thread, so the interpreter waits for the last one before it exits: about 1 s added
    to every run that ran a job, whatever its size. A shorter timespan cannot be asked for
    (``10/100ms`` parses as 100 minutes). Once the run has ended nothing is left to schedule,
    so cancelling them loses nothing.

    Returns
    -------
    int
        How many timers were cancelled.
    """
    cancelled = 0
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        if isinstance(thread, threading.Timer) and getattr(function, "__module__", None) == (
            SCHEDULER_MODULE
        ):
            thread.cancel()
            cancelled += 1
    return cancelled


def skip_final_collections() -> None:
    """Spare this process the interpreter's garbage collections when it exits.

    A process that has imported Snakemake, pandas or matplotlib spends ~0.25-0.3 s of CPU at
    exit collecting objects whose memory the operating system takes back anyway. This
    registers :func:`gc.freeze` to run at exit, before those collections (and after the exit
    handlers registered later, which run first): the process collects as usual until then, so
    it is safe in a process that goes on (Snakemake called from Python). Objects left in
    reference cycles at exit are then not finalized: outputs must be written and closed by
    then, as they are (:mod:`~neowise_lightcurves.atomic`).
    """
    atexit.register(gc.freeze)


def end_of_run() -> None:
    """What the Snakefile's ``onsuccess:`` and ``onerror:`` run: the scheduler's timers
    released and the final collections skipped."""
    release_scheduler_timers()
    skip_final_collections()
