"""Processes end with their work: Snakemake's scheduler timer released, no final collections."""

import subprocess
import sys
import threading
import time
import types

from neowise_lightcurves import exits


def scheduler():
    """What Snakemake's scheduler's re-evaluation timer touches of it (``_open_jobs``), and
    the event (``released``) its firing sets."""
    released = threading.Event()
    return types.SimpleNamespace(
        _open_jobs=types.SimpleNamespace(release=released.set), released=released
    )


def arm(scheduler, delay):
    """A timer armed by Snakemake's own method (not a copy), as after each round of jobs."""
    from snakemake.scheduling.job_scheduler import JobScheduler

    JobScheduler._schedule_reevalutation(scheduler, delay)


def test_the_runs_scheduler_timer_is_released_and_no_other():
    """The timers Snakemake's scheduler arms: the run's are cancelled, another run's
    scheduler's and anyone else's are left to fire."""
    ours, other = scheduler(), scheduler()
    before = set(threading.enumerate())
    arm(ours, 60)
    ours_timers = [t for t in threading.enumerate() if t not in before]
    arm(other, 0.2)
    fired = threading.Event()
    anyone = threading.Timer(0.2, fired.set)
    anyone.start()

    assert exits.release_scheduler_timers(ours) == 1
    for timer in ours_timers:
        timer.join(timeout=10)
        assert not timer.is_alive()  # ended now, not after its 60 s
    assert not ours.released.is_set()  # cancelled, not fired
    anyone.join(timeout=10)
    assert fired.is_set()
    deadline = time.monotonic() + 10
    while not other.released.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert other.released.is_set()  # the other run's timer fired
    assert exits.release_scheduler_timers(ours) == 0


def test_without_a_scheduler_every_schedulers_timer_is_released():
    one = scheduler()
    arm(one, 60)
    assert exits.release_scheduler_timers() == 1
    assert not one.released.is_set()


def test_a_jobs_process_skips_the_final_collections(tmp_path):
    """logs.to_file arranges gc.freeze() for the process's exit, not before: the process
    collects as usual while it works; a handler registered before it runs after it and sees
    the objects frozen; the job's last log line is still written."""
    log = tmp_path / "job.log"
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('at exit', gc.get_freeze_count() > 0))\n"
        "from neowise_lightcurves import logs\n"
        f"logs.to_file({str(log)!r}).info('work done')\n"
        "print('working', gc.get_freeze_count() > 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["working", "False", "at", "exit", "True"]
    assert "work done" in log.read_text() and "process CPU: start-up" in log.read_text()


def test_the_end_of_a_run_in_a_process_that_goes_on():
    """exits.end_of_run (the Snakefile's hooks) in a process that goes on after the run
    (Snakemake called from Python): collection goes on until the process exits."""
    code = (
        "import gc\n"
        "from neowise_lightcurves import exits\n"
        "exits.end_of_run()\n"
        "class Cycle: pass\n"
        "a = Cycle(); a.me = a; del a\n"
        "print('collected', gc.collect() > 0, 'frozen', gc.get_freeze_count() > 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["collected", "True", "frozen", "False"]
