"""The explorer at 10^6 targets: how long its page takes to open, how long a target's light
curve takes to appear, and how much memory its server holds.

    python benchmarks/explorer.py prepare --workdir /tmp/nlc-explorer      # ~3 min, 3.5 GB
    python benchmarks/explorer.py measure --workdir /tmp/nlc-explorer

``prepare`` writes a synthetic run's outputs in the workflow's layout (``outputs.py``) under
``{workdir}/results``: ``summary.parquet`` of ``--targets`` targets (default 10^6) uniform over the
sky, every summary column, in groups of HEALPix order-2 pixels (192 groups, ~5,200 targets each,
as a million-target run's light-curve jobs have them), sorted by group then target; and
``per_target/index.parquet`` (two files per target). The light-curve and binned files
(``lightcurves.parquet/{group}.parquet``, ``binned.parquet/...``) are written full size (22
visits of 12 exposures per target: 264 rows, 11 years; built by ``build_lightcurves`` and
``bin_visits``, in row groups of ``merge.ROW_GROUP_ROWS``) for the groups of the targets the
page opens on and of ``--measured`` others; reading one target opens only its group's file, so
the other groups' are left out (their targets have no light curve to show here).

``measure`` starts ``neowise-lightcurves explore`` on it, opens the page in headless Chromium
(Debian's, through Selenium) and times: the page until its table and its first target's light
curve are drawn (a fresh browser each time, ``--repeat`` times); each measured target from
asking for it (``goto``) until its light curve is drawn in the browser; the server's resident
memory (VmRSS, and its peak VmHWM) after all that; a filter to the groups written (until the
table shows it) and then ``--next`` times the key ``j`` (the next target in the table's
order, in the same group file mostly). It prints a Markdown table and writes
``{workdir}/result.json``.

``screenshots`` takes docs/explorer.md's screenshots from a finished demo run (``make demo``):

    python benchmarks/explorer.py screenshots results

It does what docs/explorer.md tells a new user to do (filter to significant periods and pick
PERIODIC; go to MOVER, the cut detections shown) and saves the page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import browser
import hpgeom
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from browser import model

from neowise_lightcurves import binning, lightcurves, merge, periods, summary

SEED = 27
#: Visits per target (two a year, 11 years) and exposures per visit.
VISITS, PER_VISIT = 22, 12
YEAR1_MJD, VISIT_GAP, EXPOSURE_GAP = 56_639.0, 182.6, 0.0655


def synthetic_summary(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` targets uniform over the sky with every summary column, grouped by order-2 pixel."""
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    pixel = hpgeom.angle_to_pixel(4, ra, dec, nest=True)
    s = pd.DataFrame({"target_id": [f"T{i:07d}" for i in range(n)], "ra": ra, "dec": dec})
    n_det = rng.poisson(VISITS * PER_VISIT, n)
    s["n_detections"] = n_det
    s["n_detections_before_cuts"] = n_det + rng.poisson(10, n)
    s["n_epochs"], s["n_years"] = VISITS, 11
    s["mjd_first"] = YEAR1_MJD + rng.uniform(0, 1, n)
    s["mjd_last"] = s["mjd_first"] + (VISITS - 1) * VISIT_GAP
    s["time_span_days"] = s["mjd_last"] - s["mjd_first"]
    w1 = rng.uniform(8, 16, n)
    w2 = w1 - rng.normal(0.1, 0.2, n)
    for b, mag in (("w1", w1), ("w2", w2)):
        s[f"{b}flux_median"] = 10 ** (-0.4 * (mag - 20.7))
        s[f"{b}flux_mjy_median"] = 1000 * 300 * 10 ** (-0.4 * mag)
    for b in ("w1", "w2"):
        s[f"{b}_n_saturated"] = 0
    s["w1_mag_median"], s["w2_mag_median"], s["w1_w2"] = w1, w2, w1 - w2
    for b in ("w1", "w2"):
        s[f"{b}_chi2_red"] = rng.lognormal(0, 0.7, n)
        s[f"{b}_scatter"] = rng.lognormal(-4, 0.5, n)
        s[f"{b}_amplitude_mag"] = rng.lognormal(-2.5, 0.5, n)
    for c in ("offset_median_arcsec", "offset_scatter_arcsec"):
        s[c] = rng.lognormal(-2, 0.4, n)
    s["centroid_east_arcsec"] = rng.normal(0, 0.05, n)
    s["centroid_north_arcsec"] = rng.normal(0, 0.05, n)
    s["frac_blended"], s["frac_contaminated"] = rng.beta(1, 20, n), rng.beta(1, 20, n)
    s["second_source"] = rng.uniform(size=n) < 0.01
    s["second_source_sep_arcsec"] = np.where(s["second_source"], rng.uniform(0.5, 2, n), np.nan)
    s["second_source_frac"] = np.where(s["second_source"], rng.uniform(0.1, 0.5, n), np.nan)
    s["period_days"] = rng.lognormal(0, 2, n)
    s["period_power"] = rng.uniform(0, 1, n)
    s["period_fap"] = rng.uniform(0, 1, n) ** 4
    s["period_significant"] = s["period_fap"] < 0.01
    s["period_alias"] = rng.uniform(size=n) < 0.2
    s = s[list(summary.COLUMNS + periods.COLUMNS)]
    s["group"] = [f"k2_{p}" for p in pixel]
    return s.sort_values(["group", "target_id"], ignore_index=True)


def group_rows(members: pd.DataFrame, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """A group's light curves and binned epochs: :data:`VISITS` visits of :data:`PER_VISIT`
    exposures per target, built as the workflow builds them."""
    n = len(members)
    per = VISITS * PER_VISIT
    visit = np.tile(np.repeat(np.arange(VISITS), PER_VISIT), n)
    k = np.tile(np.arange(PER_VISIT), n * VISITS)
    mjd = YEAR1_MJD + visit * VISIT_GAP + k * EXPOSURE_GAP + rng.uniform(0, 0.01, n * per)
    ids = np.repeat(members["target_id"].to_numpy(dtype=object), per)
    mags = {}
    for b in ("w1", "w2"):
        base = np.repeat(members[f"{b}_mag_median"].to_numpy(), per)
        mags[b] = base + rng.normal(0, 0.03, n * per)
    ra = np.repeat(members["ra"].to_numpy(), per) + rng.normal(0, 3e-5, n * per)
    dec = np.repeat(members["dec"].to_numpy(), per) + rng.normal(0, 3e-5, n * per)
    year = np.minimum(visit // 2 + 1, 11)
    table = {
        "target_id": ids,
        "cntr": np.arange(n * per, dtype=np.int64) + 10**12,
        "mjd": mjd,
        "ra": ra,
        "dec": dec,
        "dist_arcsec": np.abs(rng.normal(0, 0.1, n * per)),
        "year": np.array([f"year{y}" for y in range(12)], dtype=object)[year],
    }
    for b, zp in (("w1", 20.76), ("w2", 19.64)):
        flux = 10 ** (-0.4 * (mags[b] - zp))
        table[f"{b}flux"], table[f"{b}sigflux"] = flux, 0.03 * flux
        table[f"{b}mpro"], table[f"{b}sigmpro"] = mags[b], np.full(n * per, 0.03)
    table["nb"], table["na"] = np.ones(n * per, np.int64), np.zeros(n * per, np.int64)
    table["cc_flags"] = np.full(n * per, "0000", dtype=object)
    matches = pa.table(table)
    lc = lightcurves.build_lightcurves(matches, members["target_id"], "", gap_days=30.0)
    binned = binning.bin_visits(lc.to_pandas(), 30.0, 3.0, 5)
    return lc, pa.Table.from_pandas(binned, preserve_index=False)


def prepare(args) -> None:
    rng = np.random.default_rng(SEED)
    out = Path(args.workdir) / "results"
    if out.exists():
        shutil.rmtree(out)
    (out / "lightcurves.parquet").mkdir(parents=True)
    (out / "binned.parquet").mkdir()
    (out / "per_target").mkdir()
    t0 = time.perf_counter()
    s = synthetic_summary(args.targets, rng)
    pq.write_table(pa.Table.from_pandas(s, preserve_index=False), out / "summary.parquet")
    index = pd.DataFrame(
        {
            "target_id": np.repeat(s["target_id"].to_numpy(dtype=object), 2),
            "kind": np.tile(["raw", "binned"], len(s)),
            "format": "parquet",
        }
    )
    groups = np.repeat(s["group"].to_numpy(), 2)
    index["path"] = [
        f"{g}/{t}.{k}.parquet"
        for g, t, k in zip(groups, index["target_id"], index["kind"], strict=True)
    ]
    pq.write_table(
        pa.Table.from_pandas(index, preserve_index=False), out / "per_target/index.parquet"
    )
    top = s.sort_values("n_detections", ascending=False, kind="stable").head(5)
    others = s.sample(args.measured, random_state=SEED)
    groups = sorted(set(top["group"]) | set(others["group"]))
    for group in groups:
        members = s[s["group"] == group]
        lc, binned = group_rows(members, rng)
        for folder, table in (("lightcurves.parquet", lc), ("binned.parquet", binned)):
            pq.write_table(
                table, out / folder / f"{group}.parquet", row_group_size=merge.ROW_GROUP_ROWS
            )
    measured = others["target_id"].tolist()
    (Path(args.workdir) / "prepared.json").write_text(
        json.dumps({"targets": len(s), "groups": groups, "measured": measured}, indent=1)
    )
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"{len(s):,} targets, light curves of {len(groups)} groups "
        f"({len(members):,} targets in the last), {size / 1e9:.2f} GB, "
        f"{time.perf_counter() - t0:.0f} s"
    )


def _memory(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }


def measure(args) -> None:
    work = Path(args.workdir)
    prepared = json.loads((work / "prepared.json").read_text())
    port = browser.free_port()
    url = f"http://127.0.0.1:{port}/"
    result = {"targets": prepared["targets"], "open_s": [], "target_s": {}}
    result["load_average_before"] = os.getloadavg()[0]
    t0 = time.perf_counter()
    # its output to nowhere: a pipe no one reads would fill over the run
    server = browser.start_explorer(
        work / "results", work / "flags.csv", port, poll=0.05, output=subprocess.DEVNULL
    )
    try:
        result["server_start_s"] = time.perf_counter() - t0
        result["memory_after_start_mb"] = _memory(server.pid)
        first = "lightcurve').title.text.includes('exposures')"
        for _ in range(args.repeat):
            with browser.chromium() as driver:
                t = time.perf_counter()
                driver.get(url)
                wait(driver, f"{model('table_source')}.data.target_id.length > 0")
                wait(driver, f"Bokeh.documents[0].get_model_by_name('{first}")
                result["open_s"].append(time.perf_counter() - t)
        with browser.chromium() as driver:
            driver.get(url)
            wait(driver, f"Bokeh.documents[0].get_model_by_name('{first}")
            for tid in prepared["measured"]:
                t = time.perf_counter()
                driver.execute_script(f"{model('goto')}.value = {tid!r}")
                wait(driver, f"{model('lightcurve')}.title.text.startsWith({tid + ':'!r})")
                result["target_s"][tid] = time.perf_counter() - t
            n = driver.execute_script(f"return {model('exposures')}.data.mjd.length")
            result["points_of_last"] = n
            # the next targets in the table's order, by the key j (no new page of the table)
            from selenium.webdriver.common.action_chains import ActionChains

            groups = repr(prepared["groups"])
            t = time.perf_counter()
            driver.execute_script(f"{model('filter')}.value = {f'group in {groups}'!r}")
            wait(driver, f"{model('status')}.text.includes('targets match')")
            result["filter_s"] = time.perf_counter() - t
            result["next_s"] = []
            for _ in range(args.next):
                before = driver.execute_script(f"return {model('lightcurve')}.title.text")
                t = time.perf_counter()
                ActionChains(driver).send_keys("j").perform()
                wait(driver, f"{model('lightcurve')}.title.text !== {before!r}")
                result["next_s"].append(time.perf_counter() - t)
        result["memory_mb"] = _memory(server.pid)
        result["load_average_after"] = os.getloadavg()[0]
    finally:
        browser.stop(server)
    (work / "result.json").write_text(json.dumps(result, indent=1))
    opens, targets = result["open_s"], list(result["target_s"].values())
    print("| what | measured | target |")
    print("|---|---|---|")
    print(
        f"| server start (summary of {result['targets']:,} targets read) "
        f"| {result['server_start_s']:.1f} s | |"
    )
    print(
        f"| page open, table and first light curve drawn ({len(opens)} fresh browsers) "
        f"| {min(opens):.2f}–{max(opens):.2f} s (median {np.median(opens):.2f}) | ≤ 5 s |"
    )
    print(
        f"| one target's light curve drawn ({len(targets)} targets, "
        f"{result['points_of_last']} points the last) "
        f"| {min(targets):.2f}–{max(targets):.2f} s (median {np.median(targets):.2f}) | ≤ 1 s |"
    )
    nexts = result["next_s"]
    print(f"| a filter over every target (`group in [...]`) | {result['filter_s']:.2f} s | |")
    print(
        f"| the next target's light curve drawn (key j, {len(nexts)} times) "
        f"| {min(nexts):.2f}–{max(nexts):.2f} s (median {np.median(nexts):.2f}) | ≤ 1 s |"
    )
    mem = result["memory_mb"]
    print(
        f"| server memory after all that: RSS (peak) | {mem['VmRSS']:.0f} MB "
        f"({mem['VmHWM']:.0f} MB) | ≤ 1 GB |"
    )
    print(
        f"\n(load average {result['load_average_before']:.1f} before, "
        f"{result['load_average_after']:.1f} after, on {os.cpu_count()} cores)"
    )


def wait(driver, script: str):
    """:func:`browser.wait`, polled finely: what it waits for is what is timed."""
    return browser.wait(driver, script, timeout=60.0, poll=0.02)


def screenshots(args) -> None:
    docs = Path(args.docs)
    port = browser.free_port()
    flags = Path(tempfile.mkdtemp()) / "flags.csv"
    server = browser.start_explorer(args.outdir, flags, port)
    try:
        with browser.chromium(window=(1440, 1900)) as driver:
            driver.get(f"http://127.0.0.1:{port}/")
            browser.wait(driver, f"{model('lightcurve')}.title.text.includes('exposures')")
            # PERIODIC: the significant periods that are no window alias, by power
            driver.execute_script(
                f"{model('filter')}.value = 'period_significant and not period_alias';"
                f"{model('sort_by')}.value = 'period_power'"
            )
            browser.wait(driver, f"{model('table_source')}.data.target_id.length === 3")
            driver.execute_script(f"{model('goto')}.value = 'PERIODIC'")
            browser.wait(driver, f"{model('lightcurve')}.title.text.startsWith('PERIODIC:')")
            time.sleep(1.5)
            driver.save_screenshot(str(docs / "explorer-periodic.png"))
            # MOVER: gone to by its id, the cut detections read
            driver.execute_script(
                f"{model('filter')}.value = ''; {model('goto')}.value = 'MOVER';"
                f"{model('show_cut')}.active = true"
            )
            browser.wait(driver, f"{model('lightcurve')}.title.text.startsWith('MOVER:')")
            time.sleep(1.5)
            driver.save_screenshot(str(docs / "explorer-mover.png"))
    finally:
        browser.stop(server)
    print(f"wrote {docs / 'explorer-periodic.png'}, {docs / 'explorer-mover.png'}")


def main(argv: list[str] | None = None) -> None:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="write the synthetic run")
    p.add_argument("--workdir", default="/tmp/nlc-explorer")
    p.add_argument("--targets", type=int, default=1_000_000)
    p.add_argument("--measured", type=int, default=10, help="targets to time (their groups)")
    p.set_defaults(run=prepare)
    m = commands.add_parser("measure", help="time the page on it")
    m.add_argument("--workdir", default="/tmp/nlc-explorer")
    m.add_argument("--repeat", type=int, default=3, help="page opens, each a fresh browser")
    m.add_argument("--next", type=int, default=10, help="times the key j is pressed")
    m.set_defaults(run=measure)
    sc = commands.add_parser("screenshots", help="docs/explorer.md's screenshots of a demo run")
    sc.add_argument("outdir", help="a finished demo run's outdir")
    sc.add_argument("--docs", default=str(Path(__file__).resolve().parents[1] / "docs"))
    sc.set_defaults(run=screenshots)
    args = top.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
