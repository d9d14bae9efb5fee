"""TAP upload queries as asynchronous jobs, against a real UWS TAP server on loopback
(benchmarks/servers.py's UwsTapServer: pyvo's protocol, VOTable uploads, brute-force answers, row
limits and OVERFLOW flags as real services set them)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from conftest import brute_force_pairs, point_in_cone
from servers import UwsTapServer

from neowise_lightcurves.tap import TapError, TapOverflowError, positional_join, run_upload_query

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
    settings = dict(
        max_upload_rows=1000, max_rows=100_000, attempts=3, backoff_s=0.01, job_timeout_s=30.0
    )
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
    assert server.maxrecs == [100_001] * 4 and server.overflows == 0  # every job states MAXREC


RESULT_FAULTS = ("result-503", "result-drop", "result-stall")


@pytest.mark.parametrize(
    "fault",
    ["submit-503", "drop", "stall", "document-drop", "error", "lost", *RESULT_FAULTS, "slow"],
)
def test_a_fault_is_retried_and_the_answer_is_whole(sky, fault, caplog, monkeypatch):
    """Each fault a real archive shows costs one more try, logged; a service that takes the
    submission and never answers ("stall"), or goes silent in the middle of a result
    ("result-stall"), too, after the HTTP read timeout (here 2 s)."""
    from neowise_lightcurves import tap

    if fault.endswith("stall"):
        monkeypatch.setattr(tap, "HTTP_TIMEOUT_S", (5.0, 2.0))
    targets, rows = sky
    server = UwsTapServer({TABLE: rows}, faults=[fault], slow_s=30.0)
    waits = []
    try:
        with caplog.at_level(logging.WARNING, logger="neowise_lightcurves.tap"):
            answer = _run(server, targets, job_timeout_s=2.0, sleep=waits.append, what="MEP k2_5")
        retries = [r for r in caplog.records if r.levelno == logging.WARNING]
        clean = _run(server, targets)
    finally:
        server.stop()
    assert _pairs(answer, targets) == _pairs(clean, targets)
    # a failed submission or job is tried again after the backoff; a refused result is
    # fetched again from the same job
    assert server.submitted == (2 if fault in RESULT_FAULTS else 3)
    assert waits == [0.01]
    # the retry is in the job's log, at WARNING, with what was asked, the reason and the wait
    assert len(retries) == 1, caplog.text
    line = retries[0].getMessage()
    assert line.startswith("MEP k2_5: ") and "again in 0.01 s" in line
    reason = {
        "submit-503": "submission failed: HTTP 503: Service Unavailable",
        "drop": "submission failed",
        "document-drop": "submission failed: Connection broken: IncompleteRead",
        "stall": "timed out",
        "error": "ORA-01013",
        "lost": "lost by the service (404)",
        "result-503": "failed (HTTP 503: Service Unavailable",
        "result-drop": "failed (Connection broken: IncompleteRead",
        "result-stall": "Read timed out",
        "slow": "did not finish within 2 s",
    }[fault]
    assert reason in line, line


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
                max_rows=1000,
                attempts=2,
                backoff_s=0,
                job_timeout_s=10,
                sleep=lambda s: None,
            )
    finally:
        server.stop()


def test_a_cut_answer_is_asked_again_in_halves_to_the_whole_answer(sky, caplog):
    """The service's hard limit below the whole upload's answer (it cuts and flags OVERFLOW,
    as DaCHS does), then the client's own limit below it: the same pairs as brute force, in
    answers each within the limit; every cut logged."""
    targets, rows = sky
    expected = brute_force_pairs(
        targets["ra"], targets["dec"], rows["ra"], rows["dec"], RADIUS_ARCSEC
    )
    per_target = max(np.bincount([i for i, _ in expected]))
    assert len(expected) > 2 * per_target  # the whole answer is over the limits below
    capped = UwsTapServer({TABLE: rows}, hard_limit=per_target + 1)
    uncapped = UwsTapServer({TABLE: rows})
    try:
        with caplog.at_level(logging.WARNING, logger="neowise_lightcurves.tap"):
            by_service = _run(capped, targets, what="MEP k2_5")
            by_client = _run(uncapped, targets, max_rows=per_target)
    finally:
        capped.stop()
        uncapped.stop()
    assert _pairs(by_service, targets) == expected
    assert _pairs(by_client, targets) == expected
    assert len(by_service) == len(by_client) == len(expected)  # nothing twice
    assert capped.overflows > 0 and uncapped.overflows > 0
    assert capped.uploads[0] == 5 and min(capped.uploads) < 5
    assert set(uncapped.maxrecs) == {per_target + 1}
    cuts = [r.getMessage() for r in caplog.records if "answer was cut" in r.getMessage()]
    assert cuts and all(r.levelno == logging.WARNING for r in caplog.records)
    assert "flagged OVERFLOW" in cuts[0] and "asking again 3 rows at a time" in cuts[0]


def test_a_service_that_cuts_without_saying_so_is_caught(sky):
    """No OVERFLOW flag: an answer of MAXREC = max_rows + 1 rows is taken as cut all the
    same."""
    targets, rows = sky
    server = UwsTapServer({TABLE: rows}, flag_overflow=False)
    try:
        whole = _run(server, targets)
        ids = _run(server, targets, max_upload_rows=1)["target_id"]
        per_target = max(np.unique(ids, return_counts=True)[1])
        halved = _run(server, targets, max_rows=per_target)
    finally:
        server.stop()
    assert _pairs(halved, targets) == _pairs(whole, targets)
    assert server.overflows > 0


@pytest.mark.parametrize("limit", ["service", "client"])
def test_one_row_s_answer_over_the_limit_names_service_query_and_limit(sky, limit):
    targets, rows = sky
    kw = {"hard_limit": 5} if limit == "service" else {}
    server = UwsTapServer({TABLE: rows}, **kw)
    try:
        with pytest.raises(TapOverflowError) as err:
            _run(
                server,
                targets,
                what="AllWISE MEP for shard 2-17",
                noun="targets",
                limit_hint="raise the limit",
                **({"max_rows": 5} if limit == "client" else {}),
            )
    finally:
        server.stop()
    msg = str(err.value)
    assert msg.startswith("AllWISE MEP for shard 2-17 (targets 1-1 of 5): ")
    assert f"TAP service at {server.url}" in msg and f"query: {_query()}" in msg
    if limit == "service":
        assert "flagged OVERFLOW at 5 rows though MAXREC was 100,001 (a limit of 100,000" in msg
    else:
        assert "more than the limit of 5 rows (MAXREC 6)" in msg
    assert msg.endswith("; raise the limit")
    assert server.uploads == [5, 3, 2, 1] and server.jobs == {}


def test_a_synchronous_query_to_a_silent_service_fails_instead_of_hanging(monkeypatch):
    """run_sync (the VizieR target query) against a service that takes the connection and
    never answers: an error naming the service and the time-out after HTTP_TIMEOUT_S (here
    1 s), not a hang."""
    import socket
    import threading

    from neowise_lightcurves import tap

    monkeypatch.setattr(tap, "HTTP_TIMEOUT_S", (5.0, 1.0))
    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    outcome = []

    url = f"http://127.0.0.1:{listener.getsockname()[1]}/tap"

    def ask():
        try:
            tap.run_sync(url, "SELECT 1", max_rows=5, what="targets from VizieR (I/1)")
        except Exception as exc:  # what the caller sees
            outcome.append(exc)

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(30)
    listener.close()
    for connection, _ in held:
        connection.close()
    assert not asking.is_alive(), "run_sync still waiting after 30 s"
    assert isinstance(outcome[0], tap.TapError), repr(outcome[0])
    message = str(outcome[0])
    assert message.startswith(
        f"targets from VizieR (I/1): no whole answer from the TAP service at {url}"
    )
    assert "sent nothing for 1 s" in message and "timed out" in message
