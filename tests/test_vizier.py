"""Targets from VizieR over TAP: the unchanged pyvo client against a real TAP server on loopback."""

from __future__ import annotations

import pandas as pd
import pytest
from astropy.table import Table
from servers import TapServer
from test_targets import normalize
from workflow_helpers import TINY, deep_update, snakemake

from neowise_lightcurves import demo, targets
from neowise_lightcurves.tap import TapOverflowError


@pytest.fixture(scope="module")
def tap():
    t = demo.build_sky(1, 5).targets
    table = Table(
        {
            "uid": list(range(1, len(t) + 1)),
            "GCVS": t["target_id"].tolist(),
            "RAJ2000": t["ra"].to_numpy(),
            "DEJ2000": t["dec"].to_numpy(),
        }
    )
    moving = table.copy()
    moving["pmRA"] = t["pmra"].to_numpy()  # Gaia's names at VizieR; the demo's MOVER moves
    moving["pmDE"] = t["pmdec"].to_numpy()
    server = TapServer({"V/123A/cv": table, "demo/moving": moving})
    yield server
    server.stop()


def test_query_vizier_function(tap):
    n = len(tap.tables["V/123A/cv"])
    frame = targets.query_vizier(tap.url, "V/123A/cv", ["uid", "GCVS", "RAJ2000", "DEJ2000"], n)
    assert len(frame) == n and list(frame.columns) == ["uid", "GCVS", "RAJ2000", "DEJ2000"]
    q = tap.queries[-1]
    assert q["QUERY"] == 'SELECT uid, GCVS, RAJ2000, DEJ2000 FROM "V/123A/cv"'
    # the limit is stated, one row over it: a table of exactly row_limit rows is whole
    assert q["LANG"] == "ADQL" and q["MAXREC"] == str(n + 1)
    out = normalize(frame)
    assert out["target_id"].tolist() == [str(i) for i in range(1, n + 1)] and "GCVS" in out
    # no row_limit: every row, up to a million
    assert len(targets.query_vizier(tap.url, "V/123A/cv", ["uid"], None)) == n
    assert tap.queries[-1]["MAXREC"] == str(targets.VIZIER_ROW_LIMIT + 1) == "1000001"


def test_a_table_over_the_row_limit_is_a_clear_error(tap):
    with pytest.raises(TapOverflowError) as err:
        targets.query_vizier(tap.url, "V/123A/cv", ["uid", "RAJ2000", "DEJ2000"], 5)
    msg = str(err.value)
    assert msg.startswith(
        f"targets from VizieR (V/123A/cv): the answer of the TAP service at "
        f"{tap.url} was cut: more than the limit of 5 rows (MAXREC 6); "
    )
    assert 'query: SELECT uid, RAJ2000, DEJ2000 FROM "V/123A/cv"; ' in msg
    assert "more rows than targets.vizier.row_limit (5): raise it" in msg


def test_a_service_s_own_row_limit_is_a_clear_error():
    """A service that caps every answer below what is asked (DaCHS's 20,000 without MAXREC;
    here 4) and flags OVERFLOW after the table: never a short target list."""
    t = demo.build_sky(1, 5).targets
    table = Table({"uid": list(range(len(t))), "RAJ2000": t["ra"], "DEJ2000": t["dec"]})
    server = TapServer({"V/123A/cv": table}, hard_limit=4)
    try:
        with pytest.raises(TapOverflowError) as err:
            targets.query_vizier(server.url, "V/123A/cv", ["uid", "RAJ2000", "DEJ2000"], None)
    finally:
        server.stop()
    msg = str(err.value)
    assert server.url in msg and 'query: SELECT uid, RAJ2000, DEJ2000 FROM "V/123A/cv"' in msg
    assert (
        "flagged OVERFLOW at 4 rows though MAXREC was 1,000,001 (a limit of 1,000,000 rows)" in msg
    )
    assert "targets.vizier.row_limit is null" in msg


def test_error_answer_is_reported(tap):
    import pyvo

    with pytest.raises(pyvo.dal.DALQueryError, match="Unknown table"):
        targets.query_vizier(tap.url, "V/999/none", ["uid", "RAJ2000", "DEJ2000"], None)


@pytest.mark.workflow
def test_workflow_queries_once_and_again_when_the_query_changes(tmp_path, tap):
    cfg = deep_update(
        TINY,
        {
            "targets": {
                "source": "vizier",
                "vizier": {
                    "tap_url": tap.url,
                    "table": "demo/moving",
                    "columns": ["uid", "GCVS", "RAJ2000", "DEJ2000", "pmRA", "pmDE"],
                },
            },
            "catalog": {"years": [1]},
        },
    )
    before = len(tap.queries)
    ran, _ = snakemake(tmp_path, cfg)
    assert ran["targets"] == 1 and len(tap.queries) == before + 1
    got = pd.read_parquet(tmp_path / "results/targets.parquet")
    assert len(got) == len(demo.build_sky(1, 5).targets) and "GCVS" in got
    summary = pd.read_parquet(tmp_path / "results/summary.parquet")
    assert (summary["n_detections"] > 0).sum() >= len(summary) - 1  # all but EMPTY
    assert {"pmra", "pmdec", "pm_epoch"} <= set(got.columns) and "pmRA" not in got
    # a rerun does not query again
    ran, _ = snakemake(tmp_path, cfg)
    assert sum(ran.values()) == 0 and len(tap.queries) == before + 1
    # a changed query does; a table over its row limit fails the run naming the limit, and
    # no short target list is written
    cfg10 = deep_update(cfg, {"targets": {"vizier": {"row_limit": 10}}})
    ran, proc = snakemake(tmp_path, cfg10, check=False)
    assert proc.returncode != 0 and len(tap.queries) == before + 2
    assert tap.queries[-1]["MAXREC"] == "11"
    assert "more than the limit of 10 rows" in proc.stdout + proc.stderr
    assert (
        "targets.vizier.row_limit (10): raise it"
        in (tmp_path / "results/logs/targets.log").read_text()
    )
    written = tmp_path / "results/targets.parquet"
    assert not written.exists() or len(pd.read_parquet(written)) == len(got)
    # an error answer fails the run with the server's message
    bad = deep_update(cfg, {"targets": {"vizier": {"table": "V/999/none"}}})
    _, proc = snakemake(tmp_path, bad, check=False)
    assert proc.returncode != 0
    assert "Unknown table in query" in proc.stdout + proc.stderr
