"""The explorer's screenshots in docs/ (docs/explorer.md), taken with headless Chromium from a
finished demo run (`make demo`):

    python tools/explorer_screenshots.py results

It starts ``neowise-lightcurves explore`` on the run, does what docs/explorer.md tells a new
user to do (filter to significant periods and pick PERIODIC; go to MOVER) and saves the page.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1440,1900",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


def model(name: str) -> str:
    return f"Bokeh.documents[0].get_model_by_name({name!r})"


def wait(driver, script: str, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if driver.execute_script(f"return {script}"):
                return
        except Exception:  # not rendered yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not true within {timeout} s: {script}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="a finished demo run's outdir")
    parser.add_argument("--docs", default=str(REPO / "docs"))
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    flags = Path(tempfile.mkdtemp()) / "flags.csv"
    cmd = [sys.executable, "-m", "neowise_lightcurves.cli", "explore", args.outdir]
    server = subprocess.Popen(cmd + ["--port", str(port), "--no-browser", "--flags", str(flags)])
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for f in FLAGS:
        options.add_argument(f)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp()}")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        driver.get(f"http://127.0.0.1:{port}/")
        wait(driver, f"{model('lightcurve')}.title.text.includes('exposures')")
        docs = Path(args.docs)
        # PERIODIC: the significant periods that are no window alias, by power
        driver.execute_script(
            f"{model('filter')}.value = 'period_significant and not period_alias';"
            f"{model('sort_by')}.value = 'period_power'"
        )
        wait(driver, f"{model('table_source')}.data.target_id.length === 3")
        driver.execute_script(f"{model('goto')}.value = 'PERIODIC'")
        wait(driver, f"{model('lightcurve')}.title.text.startsWith('PERIODIC:')")
        time.sleep(1.5)
        driver.save_screenshot(str(docs / "explorer-periodic.png"))
        # MOVER: gone to by its id, the cut detections read
        driver.execute_script(
            f"{model('filter')}.value = ''; {model('goto')}.value = 'MOVER';"
            f"{model('show_cut')}.active = true"
        )
        wait(driver, f"{model('lightcurve')}.title.text.startsWith('MOVER:')")
        time.sleep(1.5)
        driver.save_screenshot(str(docs / "explorer-mover.png"))
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=20)
    print("wrote docs/explorer-periodic.png, docs/explorer-mover.png")


if __name__ == "__main__":
    main()
