"""TAP upload queries as asynchronous jobs, against a real UWS TAP server on loopback
(tests/servers.py's UwsTapServer: pyvo's protocol, VOTable uploads, brute-force answers)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import brute_force_pairs, point_in_cone
from servers import UwsTapServer

from neowise_lightcurves.tap import TapError, positional_join, run_upload_query

TABLE = "allwise_p3as_mep"
RADIUS_ARCSEC = 3.0


def _sky():
    """Targets in open sky, at the north pole and on both sides of RA 0, and a table of rows
    in and around their cones (some just outside)."""
    from astropy.table import Table

    rng = np.random.default_rng(7)
    targets = Table(
        {
            "target_id": ["open", "pole", "seam-w", "seam-e", "far"],
            "ra": [150.0, 42.0, 359.99995, 0.00003, 300.0],
            "dec": [2.0, 89.99990, -1.0, -1.0, -60.0],
        }
    )
    ra, dec = [], []
    for t in targets:
        for _ in range(40):
            r, d = point_in_cone(
                t["ra"], t["dec"], RADIUS_ARCSEC, rng.uniform(0, 360), rng.uniform(0, 1.3)
            )
            ra.append(r)
            dec.append(d)
    rows = Table({"ra": ra, "dec": dec})
    rows["cntr_mf"] = np.arange(len(rows), dtype=np.int64)
    rows["mjd"] = rng.uniform(55200, 55600, len(rows))
    rows["w1flux_ep"] = rng.normal(1000, 10, len(rows))
    return targets, rows


def _query():
    return positional_join("u", TABLE, ["cntr_mf", "mjd", "w1flux_ep"], RADIUS_ARCSEC / 3600)


def _run(server, targets, **kw):
    settings = dict(max_upload_rows=1000, attempts=3, backoff_s=0.01, job_timeout_s=30.0)
    settings.update(kw)
    return run_upload_query(server.url, _query(), targets, **settings)


@pytest.fixture
def sky():
    return _sky()


def _pairs(answer, targets):
    index = {t: i for i, t in enumerate(targets["target_id"])}
    return {(index[t], int(c)) for t, c in zip(answer["target_id"], answer["cntr_mf"], strict=True)}


def test_answer_equals_brute_force_in_chunks(sky):
    targets, rows = sky
    server = UwsTapServer({TABLE: rows})
    try:
        whole = _run(server, targets)
        chunked = _run(server, targets, max_upload_rows=2)
    finally:
        server.stop()
    expected = brute_force_pairs(
        targets["ra"], targets["dec"], rows["ra"], rows["dec"], RADIUS_ARCSEC
    )
    assert len(expected) > 100
    assert _pairs(whole, targets) == expected
    assert _pairs(chunked, targets) == expected
    assert server.uploads == [5, 2, 2, 1]  # one job per chunk of at most 2 rows
    assert server.jobs == {}  # every job deleted once answered


@pytest.mark.parametrize("fault", ["submit-503", "drop", "error", "lost", "result-503", "slow"])
def test_a_fault_is_retried_and_the_answer_is_whole(sky, fault):
    targets, rows = sky
    server = UwsTapServer({TABLE: rows}, faults=[fault], slow_s=30.0)
    waits = []
    try:
        answer = _run(server, targets, job_timeout_s=2.0, sleep=waits.append)
        clean = _run(server, targets)
    finally:
        server.stop()
    assert _pairs(answer, targets) == _pairs(clean, targets)
    # a failed submission or job is tried again after the backoff; a refused result is
    # fetched again from the same job
    assert server.submitted == (2 if fault == "result-503" else 3)
    assert waits == [0.01]


def test_failing_every_attempt_names_what_and_why(sky):
    targets, rows = sky
    server = UwsTapServer({TABLE: rows}, faults=["error", "lost", "error"])
    waits = []
    try:
        with pytest.raises(TapError) as err:
            _run(server, targets, what="AllWISE MEP for shard 2-17", sleep=waits.append)
    finally:
        server.stop()
    msg = str(err.value)
    assert "AllWISE MEP for shard 2-17" in msg and "after 3 attempts" in msg
    assert "simulated archive fault (ORA-01013)" in msg  # the service's own message
    assert waits == [0.01, 0.02]  # exponential backoff
    assert server.jobs == {}


def test_a_query_the_service_rejects_names_its_message(sky):
    targets, rows = sky
    server = UwsTapServer({TABLE: rows})
    query = positional_join("u", TABLE, ["no_such_column"], 0.001)
    try:
        with pytest.raises(TapError, match="Column 't.no_such_column' not found"):
            run_upload_query(
                server.url,
                query,
                targets,
                max_upload_rows=10,
                attempts=2,
                backoff_s=0,
                job_timeout_s=10,
                sleep=lambda s: None,
            )
    finally:
        server.stop()
