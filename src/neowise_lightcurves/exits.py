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


def release_scheduler_timers(scheduler=None) -> int:
    """Cancel the pending re-evaluation timers of ``scheduler`` (a run's
    ``workflow.scheduler``; none given: of every Snakemake scheduler in the process).

    Each time Snakemake 9's scheduler starts jobs it arms a :class:`threading.Timer` of
    ``--max-jobs-per-timespan``'s timespan (1 s by default) to look again. The timer is not a
    daemon thread, so the interpreter waits for the last one before it exits: about 1 s added
    to every run that ran a job, whatever its size. A shorter timespan cannot be asked for
    (``10/100ms`` parses as 100 minutes). Once the run has ended nothing is left for its
    scheduler to do, so cancelling them loses nothing; another run going on in the same
    process keeps its own.

    Returns
    -------
    int
        How many timers were cancelled.
    """
    cancelled = 0
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        if not isinstance(thread, threading.Timer) or (
            getattr(function, "__module__", None) != SCHEDULER_MODULE
        ):
            continue
        held = [cell.cell_contents for cell in getattr(function, "__closure__", None) or ()]
        if scheduler is None or any(obj is scheduler for obj in held):
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


def end_of_run(scheduler=None) -> None:
    """What the Snakefile's ``onsuccess:`` and ``onerror:`` run: the run's scheduler's timers
    released (``workflow.scheduler``) and the final collections skipped."""
    release_scheduler_timers(scheduler)
    skip_final_collections()
