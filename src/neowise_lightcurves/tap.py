"""TAP queries with a table upload, run as asynchronous jobs that survive a real archive's faults
and never take a cut answer for a whole one.

An upload query (a positional join of the targets with an archive table, as timewise runs
against IRSA's TAP service) goes as one UWS job per chunk of at most ``max_upload_rows`` rows:
submitted with the chunk as a VOTable upload, started, polled until it ends, its result fetched,
the job deleted. A submission answered with throttling or a server error (429, 5xx) or a
dropped or silent connection is retried with exponential backoff (a result broken off or
silent in the middle is fetched again); a job that ends in ERROR, is lost by
the service (its URL answers 404) or outruns ``job_timeout_s`` is submitted again; after
``attempts`` tries the query fails with :class:`TapError`, naming what was asked
(``what``) and the service's last message. Every retry is logged at WARNING, with its reason
and the wait before it.

Row limits. TAP services cut an answer at a row limit (``MAXREC``: the query's, else the
service's default, e.g. GAVO DaCHS's 20,000; never above the service's hard limit) and flag
the cut with a ``QUERY_STATUS`` ``OVERFLOW`` INFO after the table. Every job here states
``MAXREC = max_rows + 1`` and takes an answer as whole only if it has at most ``max_rows`` rows
and no ``OVERFLOW`` anywhere in it (so a service that cuts without saying so is caught too, and
an answer of exactly ``max_rows`` rows is not mistaken for a cut one). A cut answer is dropped
and its chunk asked again in two halves, and the later chunks at that size, down to one row;
one row's answer still cut fails with :class:`TapOverflowError`, naming the service, the query
and the limit. Nothing is returned until every chunk has its whole answer, so a caller that
writes the result atomically never keeps a partial one.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

#: HTTP statuses worth another try: throttling and server errors.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: (connect, read) seconds an HTTP request to a TAP service waits where pyvo sets no timeout of
#: its own (submitting, starting, fetching, deleting a job; a synchronous query): a service that
#: takes the connection and never answers fails that try, which is then retried as a dropped
#: connection is, instead of holding the job forever. The read timeout is the longest silence
#: between two reads, not the answer's whole time.
HTTP_TIMEOUT_S = (30.0, 600.0)


class TapError(RuntimeError):
    """A TAP query that failed: an upload query after every attempt, a synchronous one at its
    network failure; the message names it and the cause."""


class TapOverflowError(TapError):
    """A TAP answer cut at a row limit that splitting cannot avoid (one uploaded row's answer,
    or a query without an upload); the message names the service, the query and the limit."""


def overflowed(result, max_rows: int) -> bool:
    """Whether a TAP answer (pyvo ``TAPResults``) may be cut: a ``QUERY_STATUS`` ``OVERFLOW``
    INFO anywhere in its VOTable (pyvo's :attr:`query_status` reads the results RESOURCE's
    last one), or more than ``max_rows`` rows."""
    if str(result.query_status or "").upper() == "OVERFLOW":
        return True
    for info in result.votable.iter_info():
        if (info.name or "").upper() == "QUERY_STATUS" and (info.value or "").upper() == (
            "OVERFLOW"
        ):
            return True
    return len(result) > max_rows


def overflow_reason(rows: int, max_rows: int) -> str:
    """Why an answer of ``rows`` rows is taken as cut (see :func:`overflowed`)."""
    if rows > max_rows:
        return f"more than the limit of {max_rows:,} rows (MAXREC {max_rows + 1:,})"
    return (
        f"the service flagged OVERFLOW at {rows:,} rows though MAXREC was {max_rows + 1:,} "
        f"(a limit of {max_rows:,} rows): its own limit is lower"
    )


def run_sync(
    tap_url: str, query: str, *, max_rows: int, what: str = "TAP query", limit_hint: str = ""
):
    """Run ``query`` synchronously (pyvo's ``TAPService.run_sync``) with ``MAXREC =
    max_rows + 1``; the answer as an astropy table, never a cut one.

    Raises
    ------
    TapOverflowError
        When the answer is cut (:func:`overflowed`): naming ``what``, the service, the query
        and the limit, then ``limit_hint`` (what to change).
    TapError
        When the service cannot be reached, drops the connection or goes silent for longer
        than :data:`HTTP_TIMEOUT_S` allows, before or during the answer: naming ``what``, the
        service and the cause.
    pyvo.dal.DALQueryError, pyvo.dal.DALServiceError
        An error answer, with the service's message.
    """
    import pyvo
    from pyvo.dal import DALAccessError, DALOverflowWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DALOverflowWarning)  # handled here
            result = pyvo.dal.TAPService(tap_url, session=session()).run_sync(
                query, maxrec=max_rows + 1
            )
    except (DALAccessError, *_http_errors()) as exc:
        if _status(exc) is not None or not _transient(exc):
            raise
        connect_s, read_s = HTTP_TIMEOUT_S
        raise TapError(
            f"{what}: no whole answer from the TAP service at {tap_url} (it is unreachable, "
            f"dropped the connection, or sent nothing for {read_s:g} s; connecting may take "
            f"{connect_s:g} s): {_message(getattr(exc, 'cause', None) or exc)}"
        ) from exc
    if overflowed(result, max_rows):
        raise TapOverflowError(
            f"{what}: the answer of the TAP service at {tap_url} was cut: "
            f"{overflow_reason(len(result), max_rows)}; query: {query}"
            + (f"; {limit_hint}" if limit_hint else "")
        )
    return result.to_table()


def positional_join(
    upload_name: str,
    table: str,
    columns: list[str] | tuple[str, ...],
    radius_deg: float,
    upload_columns: tuple[str, ...] = ("target_id",),
) -> str:
    """ADQL joining an uploaded table of positions with ``table`` within ``radius_deg``.

    Parameters
    ----------
    upload_name : str
        Name of the upload (``TAP_UPLOAD.{upload_name}``); it must have ``ra`` and ``dec``
        columns (deg).
    table : str
        The archive table, which has ``ra`` and ``dec`` columns (deg).
    columns : sequence of str
        Columns of ``table`` to select.
    radius_deg : float
        Radius of the circle about each uploaded position (deg).
    upload_columns : sequence of str
        Columns of the upload to select with them (the target's id).

    Returns
    -------
    str
        ``SELECT u.target_id, t.col, ... FROM TAP_UPLOAD.name AS u JOIN table AS t ON
        CONTAINS(POINT('ICRS', t.ra, t.dec), CIRCLE('ICRS', u.ra, u.dec, r)) = 1``.
    """
    selected = [f"u.{c}" for c in upload_columns] + [f"t.{c}" for c in columns]
    return (
        f"SELECT {', '.join(selected)} FROM TAP_UPLOAD.{upload_name} AS u "
        f"JOIN {table} AS t ON CONTAINS(POINT('ICRS', t.ra, t.dec), "
        f"CIRCLE('ICRS', u.ra, u.dec, {radius_deg!r})) = 1"
    )


def session():
    """pyvo's HTTP session (its User-Agent) whose requests wait at most
    :data:`HTTP_TIMEOUT_S` where pyvo gives no timeout (its job polling gives its own)."""
    from pyvo.utils.http import create_session

    http = create_session()
    request = http.request

    def request_with_timeout(method, url, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT_S)
        return request(method, url, **kwargs)

    http.request = request_with_timeout
    return http


def _status(exc: BaseException) -> int | None:
    """The HTTP status behind a pyvo or requests error, if any."""
    for e in (exc, getattr(exc, "cause", None), getattr(exc, "__cause__", None)):
        response = getattr(e, "response", None)
        if response is not None and getattr(response, "status_code", None):
            return int(response.status_code)
    return None


def _http_errors() -> tuple[type[BaseException], ...]:
    """Every error requests or urllib3 raises for an HTTP exchange (pyvo reads a job's
    document, its result and a synchronous answer from urllib3 itself, so urllib3's own errors
    reach us too); which of them are worth another try: :func:`_transient`."""
    import requests
    import urllib3

    return requests.RequestException, urllib3.exceptions.HTTPError


def _network_errors() -> tuple[type[BaseException], ...]:
    """requests' and urllib3's errors for a network failure: a connection refused, dropped or
    silent past :data:`HTTP_TIMEOUT_S`, also in the middle of an answer's body (which pyvo
    reads from urllib3 itself for a job's document, its result and a synchronous answer:
    urllib3's errors)."""
    import requests
    import urllib3

    return (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.HTTPError,
    )


def _transient(exc: BaseException) -> bool:
    """Throttling, a server error or a network failure (:func:`_network_errors`), before or
    during an answer: worth another try."""
    status = _status(exc)
    if status is not None:
        return status in RETRY_STATUS
    errors = _network_errors()
    return any(isinstance(e, errors) for e in (exc, getattr(exc, "cause", None), exc.__cause__))


def run_upload_query(tap_url: str, query: str, upload, **options):
    """Run ``query`` with ``upload`` as ``TAP_UPLOAD.{upload_name}``, chunk by chunk; every
    chunk's whole answer, stacked in upload order (:func:`upload_answers`, whose keyword
    ``options`` these are).

    Returns
    -------
    astropy.table.Table
        Every chunk's answer, stacked in chunk order.
    """
    from astropy.table import vstack

    answers = [answer for _, _, answer in upload_answers(tap_url, query, upload, **options)]
    return answers[0] if len(answers) == 1 else vstack(answers, join_type="exact")


def upload_answers(
    tap_url: str,
    query: str,
    upload,
    *,
    upload_name: str = "u",
    max_upload_rows: int,
    max_rows: int,
    attempts: int,
    backoff_s: float,
    job_timeout_s: float,
    what: str = "TAP query",
    noun: str = "rows",
    limit_hint: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[int, int, object]]:
    """Run ``query`` with ``upload`` as ``TAP_UPLOAD.{upload_name}``, one job per chunk, and
    yield each chunk's whole answer as it comes (a caller can reduce one before the next is
    asked for).

    Parameters
    ----------
    tap_url : str
        The TAP service's base URL (``.../TAP``).
    query : str
        ADQL referring to ``TAP_UPLOAD.{upload_name}`` (see :func:`positional_join`).
    upload : astropy.table.Table
        The table to upload; sent in chunks of at most ``max_upload_rows`` rows, each as a job
        of its own.
    upload_name : str
        The upload's name in the query.
    max_upload_rows : int
        Most rows in one upload.
    max_rows : int
        Most rows one answer may have: each job asks ``MAXREC = max_rows + 1``; a cut answer
        (:func:`overflowed`) is asked again in halves, and the later chunks at that size.
    attempts : int
        Tries per chunk: submissions retried on 429/5xx/network errors, jobs resubmitted when
        they end in ERROR, are lost or outrun ``job_timeout_s``.
    backoff_s : float
        First wait between tries (s), doubled at each further try.
    job_timeout_s : float
        Longest wait for one job to end (s).
    what : str
        What is asked, for log lines and errors (e.g. ``"AllWISE MEP for shard 2-123"``).
    noun : str
        What the upload's rows are, for log lines and errors (``"targets"``).
    limit_hint : str
        What to change when one row's answer is cut (ends :class:`TapOverflowError`'s message).
    sleep : callable
        Waits between tries (the tests pass a recorder).

    Yields
    ------
    (int, int, astropy.table.Table)
        A chunk's first and past-the-end rows in ``upload``, and its answer.

    Raises
    ------
    TapError
        When a chunk has no answer after ``attempts`` tries.
    TapOverflowError
        When one row's answer is cut.
    """
    n = len(upload)
    if n == 0:
        raise ValueError("nothing to upload")
    size = max_upload_rows
    start = 0
    while start < n:
        stop = min(start + size, n)
        label = what if (start, stop) == (0, n) else f"{what} ({noun} {start + 1}-{stop} of {n})"
        result = _run_job(
            tap_url,
            query,
            upload[start:stop],
            upload_name,
            max_rows,
            attempts,
            backoff_s,
            job_timeout_s,
            label,
            sleep,
        )
        if overflowed(result, max_rows):
            reason = overflow_reason(len(result), max_rows)
            del result
            if stop - start == 1:
                raise TapOverflowError(
                    f"{label}: the answer of the TAP service at {tap_url} for one of the "
                    f"uploaded {noun} was cut: {reason}; query: {query}"
                    + (f"; {limit_hint}" if limit_hint else "")
                )
            size = -(-(stop - start) // 2)
            log.warning(
                "%s: the answer was cut (%s); asking again %d %s at a time",
                label,
                reason,
                size,
                noun,
            )
            continue
        yield start, stop, result.to_table()
        start = stop


def _run_job(
    tap_url, query, chunk, upload_name, max_rows, attempts, backoff_s, job_timeout_s, what, sleep
):
    """One chunk's answer (pyvo ``TAPResults``, maybe cut: see :func:`overflowed`), trying
    ``attempts`` times (see :func:`upload_answers`)."""
    from pyvo.dal import AsyncTAPJob, DALQueryError, DALServiceError
    from pyvo.dal.exceptions import DALFormatError, DALJobTimeoutError

    last = "no answer"
    for attempt in range(attempts):
        if attempt:
            _wait(what, attempt, attempts, last, backoff_s * 2 ** (attempt - 1), sleep)
        try:
            job = AsyncTAPJob.create(
                tap_url, query, uploads={upload_name: chunk}, maxrec=max_rows + 1, session=session()
            )
        except (DALServiceError, *_http_errors()) as exc:
            last = f"submission failed: {_http(exc)}{_message(exc)}"
            if _transient(exc):
                continue
            raise TapError(
                f"{what}: the TAP service at {tap_url} refused the query: {_message(exc)}"
            ) from exc
        try:
            job.run()
            job.wait(timeout=job_timeout_s)
            job.raise_if_error()
            return _fetch(job, attempts, backoff_s, sleep, what)
        except DALQueryError as exc:  # the job ended in ERROR: the service's message
            last = f"job {job.job_id} failed: {_message(exc)}"
        except DALJobTimeoutError:
            last = f"job {job.job_id} did not finish within {job_timeout_s:g} s"
            _quietly(job.abort)
        except (DALServiceError, DALFormatError, *_http_errors()) as exc:
            status = _status(exc)
            if status == 404:
                last = f"job {job.job_id} was lost by the service (404)"
            elif _transient(exc):
                last = f"job {job.job_id}: {_http(exc)}{_message(exc)}"
            else:  # refused (400, 401, 403, ...): asking again cannot help
                raise TapError(
                    f"{what}: the TAP service at {tap_url} refused job {job.job_id}: "
                    f"{_message(exc)}"
                ) from exc
        finally:
            _quietly(job.delete)
    raise TapError(
        f"{what}: no answer from the TAP service at {tap_url} after {attempts} "
        f"attempts; last: {last}"
    )


def _wait(what, attempt, attempts, reason, seconds, sleep) -> None:
    """Log a retry at WARNING (what, which try, why, how long), then wait."""
    log.warning(
        "%s: try %d of %d failed (%s); trying again in %g s",
        what,
        attempt,
        attempts,
        reason,
        seconds,
    )
    sleep(seconds)


def _fetch(job, attempts, backoff_s, sleep, what):
    """A finished job's result (pyvo ``TAPResults``), fetched again after throttling, server or
    network errors, also one in the middle of the answer (a connection dropped or silent
    there); pyvo's overflow warning is left to the caller's check (:func:`overflowed`)."""
    from pyvo.dal import DALOverflowWarning, DALServiceError

    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DALOverflowWarning)
                return job.fetch_result()
        except (DALServiceError, *_http_errors()) as exc:
            if not _transient(exc) or attempt == attempts - 1:
                raise  # the last try's error goes to the caller
            seconds = backoff_s * 2**attempt
            log.warning(
                "%s: fetching the result of job %s failed (%s%s); fetching again in %g s",
                what,
                job.job_id,
                _http(exc),
                _message(exc),
                seconds,
            )
            sleep(seconds)
    raise AssertionError("unreachable")


def _http(exc: BaseException) -> str:
    """``"HTTP 503: "`` for an error with an HTTP status, else ``""``."""
    status = _status(exc)
    return "" if status is None else f"HTTP {status}: "


def _message(exc: BaseException) -> str:
    """An error's text: its message only, where its arguments are a message and details
    (urllib3's ``ProtocolError("Connection broken: ...", IncompleteRead(...))``)."""
    args = exc.args
    text = args[0] if len(args) > 1 and isinstance(args[0], str) else str(exc)
    text = text.strip() or type(exc).__name__
    return text.removeprefix("Query Error: ")


def _quietly(action) -> None:
    """Tidying up a job (abort, delete) must never hide the real outcome."""
    try:
        action()
    except Exception:  # noqa: BLE001 - a lost job cannot be deleted; nothing to do
        pass
