"""The explorer (issue 27): its data, flags and static export, and the page itself in a real
headless Chromium (Debian's chromium and chromium-driver, driven by Selenium)."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest
from browser import (
    CHROMEDRIVER,
    CHROMIUM,
    chromium,
    free_port,
    model,
    start_explorer,
    stop,
    wait,
)

from neowise_lightcurves import read_lightcurves, rundata
from neowise_lightcurves.flags import Flags, default_path


def test_flags_are_kept_beside_the_run_and_read_again(tmp_path):
    outdir = tmp_path / "results"
    outdir.mkdir()
    path = default_path(outdir)
    assert path == tmp_path / "results-flags.csv"  # beside the outputs, not among them
    flags = Flags(path)
    flags.set("STAR A", "real", "clear\nperiodic")
    flags.set("B", "artefact")
    flags.set("C", "", "look again")
    again = Flags(path)
    assert again.get("STAR A") == ("real", "clear periodic")
    assert again.get("B") == ("artefact", "") and again.get("C") == ("", "look again")
    assert again.column(["STAR A", "B", "D"]) == ["real: clear periodic", "artefact", ""]
    assert again.lists() == {
        "flagged": ["B", "C", "STAR A"],
        "real": ["STAR A"],
        "artefact": ["B"],
    }
    again.set("B", "", "")  # no flag, no note: removed
    assert sorted(pd.read_csv(path)["target_id"]) == ["C", "STAR A"]
    with pytest.raises(ValueError, match="a flag is one of"):
        again.set("B", "maybe")
    assert not list(outdir.iterdir())


@pytest.mark.workflow
def test_cut_detections_and_kept_ones_are_every_detection(demo_run):
    """For every demo target, the detections the cuts removed (from the match cache) and the
    light curve's are the summary's detections before the cuts."""
    run = rundata.open_run(demo_run)
    assert run.units["w1_mag_median"] == "mag" and run.units["period_days"] == "d"
    for info in run.summary.itertuples():
        rows = rundata.target_rows(demo_run, info.target_id)
        cut = rundata.cut_detections(run, info.target_id, rows.exposures)
        assert len(rows.exposures) == info.n_detections
        assert len(rows.exposures) + len(cut) == info.n_detections_before_cuts
        assert not set(cut["cntr"]) & set(rows.exposures["cntr"])
        if info.n_detections:
            assert set(rows.files["kind"]) == {"raw", "binned"}
        # its group given (the explorer holds the summary): the same rows, unread summary
        hinted = rundata.target_rows(demo_run, info.target_id, files=False, group=info.group)
        pd.testing.assert_frame_equal(hinted.exposures, rows.exposures)
        pd.testing.assert_frame_equal(hinted.epochs, rows.epochs)
    with pytest.raises(KeyError, match="NO-SUCH"):
        read_lightcurves(demo_run, ["NO-SUCH"], groups={"PERIODIC": "sky"})


@pytest.mark.workflow
def test_the_figures_data_are_the_targets_rows(demo_run):
    """Each figure's source, from a target's rows: every exposure once (twice folded), every
    epoch, the upper limits where the binned epochs are ones, in each unit."""
    from neowise_lightcurves import interactive

    run = rundata.open_run(demo_run)
    limits = 0
    for _, info in run.summary.iterrows():
        rows = rundata.target_rows(demo_run, info["target_id"], files=False)
        data = interactive.target_data(rows.exposures, rows.epochs, info, unit="mag")
        assert len(data["exposures"]["mjd"]) == len(rows.exposures)
        assert len(data["epochs"]["mjd"]) == len(rows.epochs)
        period = interactive.folding_period(info)
        assert len(data["folded"]["mjd"]) == (2 * len(rows.exposures) if period else 0)
        for band in ("w1", "w2"):
            upper = rows.epochs[f"{band}_upper_limit"].to_numpy(dtype=bool)
            drawn = np.isfinite(data["epochs"][f"{band}_lim__mag"])
            assert not (drawn & ~upper).any()
            current, mags = data["epochs"][f"{band}_lim"], data["epochs"][f"{band}_lim__mag"]
            assert np.array_equal(current, mags, equal_nan=True)
            assert np.isnan(data["epochs"][band][upper]).all()  # a limit, not a value
            limits += int(drawn.sum())
    assert limits > 0  # the demo's FAINT has some


@pytest.mark.workflow
def test_a_run_without_periods_files_or_cache(demo_run, tmp_path):
    """A run made without the period search or per-target files, copied without its cache
    and manifest: the page still draws every target, and says what it cannot show."""
    from bokeh.document import Document

    from neowise_lightcurves import explorer, periods

    run = tmp_path / "results"
    run.mkdir()
    for folder in ("lightcurves.parquet", "binned.parquet"):
        shutil.copytree(demo_run / folder, run / folder)
    summary = pd.read_parquet(demo_run / "summary.parquet")
    summary.drop(columns=list(periods.COLUMNS)).to_parquet(run / "summary.parquet")
    doc = Document()
    explorer.make_document(explorer.load(run), doc)
    doc.get_model_by_name("show_cut").active = True
    for tid in ("PERIODIC", "EMPTY"):
        doc.get_model_by_name("goto").value = tid
        title = doc.get_model_by_name("lightcurve").title.text
        assert title.startswith(f"{tid}: {len(read_lightcurves(run, tid))} exposures")
        assert doc.get_model_by_name("folded_figure").title.text.endswith("no significant period")
    assert "cannot be shown" in doc.get_model_by_name("show_cut").label
    doc.get_model_by_name("sort_by").value = "w1_chi2_red"
    assert (
        doc.get_model_by_name("table_source").data["target_id"][0]
        == (summary.sort_values("w1_chi2_red", ascending=False)["target_id"].iloc[0])
    )


@pytest.mark.workflow
def test_static_export_is_self_contained(demo_run, tmp_path):
    from neowise_lightcurves.cli import main

    out = tmp_path / "share/top.html"
    assert main(["export", str(demo_run), "-o", str(out), "--top", "3"]) == 0
    page = out.read_text()
    summary = pd.read_parquet(demo_run / "summary.parquet")
    top = summary.sort_values(["n_detections", "target_id"], ascending=[False, True]).head(3)
    for tid in top["target_id"]:
        assert f"{tid}:exposures" in page  # each target's own sources
    assert "<script src=" not in page and "<link rel=" not in page  # Bokeh inlined
    assert main(["export", str(demo_run), "--targets", "NO-SUCH", "-o", str(out)]) == 1


# --- the page in a browser ---------------------------------------------------------------


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "no browser: install Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver) to run the explorer's browser tests"
        )
    with chromium() as driver:
        yield driver


#: The ids in the table's rows as drawn, top to bottom (SlickGrid places rows by their top).
GRID_IDS = """(() => {
    const found = []
    const walk = (root) => {
        root.querySelectorAll('.slick-row').forEach((r) => found.push(r))
        root.querySelectorAll('*').forEach((e) => e.shadowRoot && walk(e.shadowRoot))
    }
    walk(document)
    return found.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((r) => r.children[1].textContent)
})()"""


def _selected(driver) -> str:
    """The target whose light curve the page shows (from its figure's title)."""
    return driver.execute_script(f"return {model('lightcurve')}.title.text").split(":")[0]


def _show(driver, target_id: str) -> None:
    driver.execute_script(f"{model('goto')}.value = {target_id!r}")
    wait(driver, f"{model('lightcurve')}.title.text.startsWith({target_id + ':'!r})")


@pytest.mark.workflow
def test_the_page_in_a_real_browser(demo_run, browser, tmp_path):
    """Load the page from the demo run, sort the table, select a target (its points are its
    rows), move with the keys, switch units, fold PERIODIC, write a flag and read it again
    after a restart; nothing loaded but from the server."""
    from selenium.webdriver.common.action_chains import ActionChains

    summary = pd.read_parquet(demo_run / "summary.parquet")
    flags, port = tmp_path / "flags.csv", free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_explorer(demo_run, flags, port)
    try:
        browser.get(url)
        wait(browser, f"{model('table_source')}.data.target_id.length > 0")
        # sorted on the server, over every target
        browser.execute_script(f"{model('sort_by')}.value = 'w1_chi2_red'")
        expected = summary.sort_values("w1_chi2_red", ascending=False, na_position="last")
        ids = json.dumps(expected["target_id"].tolist(), separators=(",", ":"))
        wait(browser, f"JSON.stringify({model('table_source')}.data.target_id) === {ids!r}")
        # ... and drawn so (the rows the grid draws, top to bottom; column 1 is target_id)
        wait(browser, f"{ids}.slice(0, {GRID_IDS}.length).join() === {GRID_IDS}.join()")
        assert len(browser.execute_script(f"return {GRID_IDS}")) >= 5
        # a row selected: its light curve, as many points as read_lightcurves gives rows
        browser.execute_script(f"{model('table_source')}.selected.indices = [2]")
        tid = expected["target_id"].iloc[2]
        wait(browser, f"{model('lightcurve')}.title.text.startsWith({tid + ':'!r})")
        n_points = browser.execute_script(f"return {model('exposures')}.data.mjd.length")
        n_epochs = browser.execute_script(f"return {model('epochs')}.data.mjd.length")
        assert n_points == len(read_lightcurves(demo_run, tid)) > 0
        assert n_epochs == len(read_lightcurves(demo_run, tid, binned=True))
        # the keys: next, next, previous
        ActionChains(browser).send_keys("jjk").perform()
        nxt = expected["target_id"].iloc[3]
        wait(browser, f"{model('lightcurve')}.title.text.startsWith({nxt + ':'!r})")
        assert _selected(browser) == nxt
        # units: magnitudes, on a flipped axis
        browser.execute_script(f"{model('unit')}.value = 'mag'")
        wait(browser, f"{model('lightcurve')}.y_range.flipped")
        mags = np.array(
            browser.execute_script(f"return Array.from({model('exposures')}.data.w1)"),
            dtype=float,
        )
        lc = read_lightcurves(demo_run, nxt)
        assert np.nanmedian(np.abs(mags - lc["w1mpro"].to_numpy(dtype=float))) < 0.01
        # PERIODIC: folded at its period, every exposure twice
        _show(browser, "PERIODIC")
        title = browser.execute_script(f"return {model('folded_figure')}.title.text")
        folded = browser.execute_script(f"return {model('folded')}.data.phase.length")
        assert title.startswith("folded at P = 0.28") and folded == 2 * len(
            read_lightcurves(demo_run, "PERIODIC")
        )
        # its per-target files, linked and served
        wait(browser, f"{model('target_info')}.text.includes('raw.parquet')")
        panel = browser.execute_script(f"return {model('target_info')}.text")
        link = re.search(r"href='(files/[^']+raw[.]parquet)'", panel).group(1)
        with urllib.request.urlopen(url + link, timeout=10) as answer:  # noqa: S310
            served = pd.read_parquet(io.BytesIO(answer.read()))
        assert len(served) == len(read_lightcurves(demo_run, "PERIODIC"))
        # one visit zoomed: its exposures alone
        binned = read_lightcurves(demo_run, "PERIODIC", binned=True)
        lc = read_lightcurves(demo_run, "PERIODIC")
        e = binned.iloc[1]
        in_visit = int(lc["mjd"].between(e["mjd_min"], e["mjd_max"]).sum())
        browser.execute_script(f"{model('visit_select')}.value = '1'")
        wait(browser, f"{model('visit')}.data.mjd.length === {in_visit}")
        # the detections the cuts removed, read from the match cache
        info = summary.set_index("target_id").loc["PERIODIC"]
        removed = int(info["n_detections_before_cuts"] - info["n_detections"])
        browser.execute_script(f"{model('show_cut')}.active = true")
        wait(browser, f"{model('cut')}.data.mjd.length === {removed}")
        label = browser.execute_script(f"return {model('show_cut')}.label")
        assert label.startswith(f"cut detections: {removed} shown")
        assert removed > 0
        # a flag: saved at once, to the file given
        browser.execute_script(f"{model('flag_choice')}.active = 1")
        browser.execute_script(f"{model('flag_note')}.value = 'folds cleanly'")
        for _ in range(100):
            if flags.exists() and "folds cleanly" in flags.read_text():
                break
            time.sleep(0.1)
        saved = pd.read_csv(flags, keep_default_na=False)
        assert saved[["target_id", "flag", "note"]].values.tolist() == [
            ["PERIODIC", "real", "folds cleanly"]
        ]
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map((e) => e.name)"
        )
        assert resources and all(r.startswith(url) for r in resources), resources
    finally:
        stop(server)
    # the static export: the same figures, no server, nothing from the internet
    from neowise_lightcurves.export import export

    page = export(demo_run, tmp_path / "share/top.html", targets=["PERIODIC", "MOVER"])
    browser.get(page.as_uri())
    wait(browser, f"{model('MOVER:exposures')}.data.mjd.length > 0")
    for tid in ("PERIODIC", "MOVER"):
        n = browser.execute_script(f"return {model(tid + ':exposures')}.data.mjd.length")
        assert n == len(read_lightcurves(demo_run, tid))
    folded = browser.execute_script(f"return {model('PERIODIC:folded')}.data.phase.length")
    assert folded == 2 * len(read_lightcurves(demo_run, "PERIODIC"))
    # read again by a new server
    server = start_explorer(demo_run, flags, port)
    try:
        browser.get(url)
        wait(browser, f"{model('table_source')}.data.target_id.length > 0")
        _show(browser, "PERIODIC")
        assert browser.execute_script(f"return {model('flag_choice')}.active") == 1
        assert browser.execute_script(f"return {model('flag_note')}.value") == "folds cleanly"
        flag_column = browser.execute_script(f"return {model('table_source')}.data.flag")
        assert "real: folds cleanly" in flag_column
        # the flagged targets, by a filter
        browser.execute_script(f"{model('filter')}.value = 'target_id in @real'")
        wait(browser, f"{model('table_source')}.data.target_id.join() === 'PERIODIC'")
    finally:
        stop(server)


@pytest.mark.workflow
def test_the_docs_screenshots_are_taken(demo_run, browser, tmp_path):
    """`benchmarks/explorer.py screenshots` on a demo run: the two PNG files docs/explorer.md
    shows (PERIODIC found by the filter, MOVER gone to by its id)."""
    import explorer

    explorer.main(["screenshots", str(demo_run), "--docs", str(tmp_path)])
    for name in ("explorer-periodic.png", "explorer-mover.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
