"""Targets from VizieR over TAP: the unchanged pyvo client against a real TAP server on loopback."""

from __future__ import annotations

import pandas as pd
import pytest
from astropy.table import Table
from servers import TapServer
from test_targets import normalize
from workflow_helpers import TINY, deep_update, snakemake

from neowise_lightcurves import demo, targets


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
    frame = targets.query_vizier(tap.url, "V/123A/cv", ["uid", "GCVS", "RAJ2000", "DEJ2000"], 5)
    assert len(frame) == 5 and list(frame.columns) == ["uid", "GCVS", "RAJ2000", "DEJ2000"]
    q = tap.queries[-1]
    assert q["QUERY"] == 'SELECT uid, GCVS, RAJ2000, DEJ2000 FROM "V/123A/cv"'
    assert q["LANG"] == "ADQL" and q["MAXREC"] == "5"
    out = normalize(frame)
    assert out["target_id"].tolist() == ["1", "2", "3", "4", "5"] and "GCVS" in out


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
    # a changed query does
    cfg10 = deep_update(cfg, {"targets": {"vizier": {"row_limit": 10}}})
    ran, _ = snakemake(tmp_path, cfg10)
    assert ran["targets"] == 1 and len(tap.queries) == before + 2
    assert len(pd.read_parquet(tmp_path / "results/summary.parquet")) == 10
    # an error answer fails the run with the server's message
    bad = deep_update(cfg, {"targets": {"vizier": {"table": "V/999/none"}}})
    _, proc = snakemake(tmp_path, bad, check=False)
    assert proc.returncode != 0
    assert "Unknown table in query" in proc.stdout + proc.stderr
