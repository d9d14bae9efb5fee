"""Headless Chromium driving the explorer (``neowise-lightcurves explore``): the explorer served
from a run, a browser on it, and waiting for the page. Shared by ``benchmarks/explorer.py``
(its timings and the docs' screenshots) and ``tests/test_explorer.py``.

Chromium and ChromeDriver are Debian's (``apt-get install chromium chromium-driver``), driven
through Selenium; every host but this one is unresolvable, so a page that needed anything from
the internet would not draw.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
#: Chromium's flags: headless, no sandbox (root), nothing fetched but from this machine.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # every host but this one unresolvable: the page must need nothing from the internet
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


@contextmanager
def chromium(window: tuple[int, int] = (1500, 2100)) -> Iterator:
    """A headless Chromium (a Selenium driver) with a fresh profile, ``window`` pixels wide
    and high; quit, and its profile removed, on leaving."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--window-size={window[0]},{window[1]}"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def model(name: str) -> str:
    """The JavaScript expression of the page's Bokeh model named ``name``."""
    return f"Bokeh.documents[0].get_model_by_name({name!r})"


def wait(driver, script: str, timeout: float = 30.0, poll: float = 0.1):
    """Poll the JavaScript expression ``script`` until it is truthy; returns its value."""
    end = time.monotonic() + timeout
    while True:
        try:
            value = driver.execute_script(f"return {script}")
        except Exception:  # the page not yet rendered
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"not true within {timeout} s: {script}")
        time.sleep(poll)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_explorer(
    outdir: str | Path,
    flags: str | Path,
    port: int,
    timeout: float = 60.0,
    poll: float = 0.1,
    output: int = subprocess.PIPE,
) -> subprocess.Popen:
    """The documented command, ``neowise-lightcurves explore``, serving ``outdir`` at
    ``port`` (its flags in ``flags``), once it answers. Its output goes to ``output``
    (default a pipe, read when it stops early; ``subprocess.DEVNULL`` for long runs, whose
    output would fill a pipe no one reads)."""
    cmd = [sys.executable, "-m", "neowise_lightcurves.cli", "explore", str(outdir)]
    cmd += ["--port", str(port), "--no-browser", "--flags", str(flags)]
    proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout)  # noqa: S310
            return proc
        except OSError:
            if proc.poll() is not None:
                said = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(f"the explorer stopped:\n{said}") from None
            if time.monotonic() > end:
                proc.kill()
                raise TimeoutError(f"the explorer did not answer within {timeout} s") from None
            time.sleep(poll)


def stop(proc: subprocess.Popen) -> None:
    """Stop a server :func:`start_explorer` started."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
