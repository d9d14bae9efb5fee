"""TAP queries with a table upload, run as asynchronous jobs that survive a real archive's faults.

An upload query (a positional join of the targets with an archive table, as timewise runs
against IRSA's TAP service) goes as one UWS job per chunk of at most ``max_upload_rows`` rows:
submitted with the chunk as a VOTable upload, started, polled until it ends, its result fetched,
the job deleted. A submission answered with throttling or a server error (429, 5xx) or a
dropped connection is retried with exponential backoff; a job that ends in ERROR, is lost by
the service (its URL answers 404) or outruns ``job_timeout_s`` is submitted again; after
``attempts`` tries the query fails with :class:`TapError`, naming what was asked
(``what``) and the service's last message. Nothing is returned until every chunk has its
answer, so a caller that writes the result atomically never keeps a partial one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: HTTP statuses worth another try: throttling and server errors.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class TapError(RuntimeError):
    """A TAP query that failed after every attempt; the message names it and the cause."""


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


def _status(exc: BaseException) -> int | None:
    """The HTTP status behind a pyvo or requests error, if any."""
    for e in (exc, getattr(exc, "cause", None), getattr(exc, "__cause__", None)):
        response = getattr(e, "response", None)
        if response is not None and getattr(response, "status_code", None):
            return int(response.status_code)
    return None


def _transient(exc: BaseException) -> bool:
    """Throttling, a server error or a network failure: worth another try."""
    import requests

    status = _status(exc)
    if status is not None:
        return status in RETRY_STATUS
    cause = getattr(exc, "cause", None) or exc.__cause__ or exc
    return isinstance(cause, requests.ConnectionError | requests.Timeout)


def run_upload_query(
    tap_url: str,
    query: str,
    upload,
    *,
    upload_name: str = "u",
    max_upload_rows: int,
    attempts: int,
    backoff_s: float,
    job_timeout_s: float,
    what: str = "TAP query",
    sleep: Callable[[float], None] = time.sleep,
):
    """Run ``query`` with ``upload`` as ``TAP_UPLOAD.{upload_name}``, chunk by chunk.

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
    attempts : int
        Tries per chunk: submissions retried on 429/5xx/network errors, jobs resubmitted when
        they end in ERROR, are lost or outrun ``job_timeout_s``.
    backoff_s : float
        First wait between tries (s), doubled at each further try.
    job_timeout_s : float
        Longest wait for one job to end (s).
    what : str
        What is asked, for the error message (e.g. ``"AllWISE MEP for shard 2-123"``).
    sleep : callable
        Waits between tries (the tests pass a recorder).

    Returns
    -------
    astropy.table.Table
        Every chunk's answer, stacked in chunk order.

    Raises
    ------
    TapError
        When a chunk has no answer after ``attempts`` tries.
    """
    from astropy.table import vstack

    if len(upload) == 0:
        raise ValueError("nothing to upload")
    answers = []
    for start in range(0, len(upload), max_upload_rows):
        chunk = upload[start : start + max_upload_rows]
        label = what
        if len(upload) > max_upload_rows:
            label = f"{what} (rows {start + 1}-{start + len(chunk)} of {len(upload)})"
        answers.append(
            _run_job(
                tap_url, query, chunk, upload_name, attempts, backoff_s, job_timeout_s, label, sleep
            )
        )
    return answers[0] if len(answers) == 1 else vstack(answers, join_type="exact")


def _run_job(tap_url, query, chunk, upload_name, attempts, backoff_s, job_timeout_s, what, sleep):
    """One chunk's answer, trying ``attempts`` times (see :func:`run_upload_query`)."""
    import requests
    from pyvo.dal import AsyncTAPJob, DALQueryError, DALServiceError
    from pyvo.dal.exceptions import DALFormatError, DALJobTimeoutError

    last = "no answer"
    for attempt in range(attempts):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            job = AsyncTAPJob.create(tap_url, query, uploads={upload_name: chunk})
        except (DALServiceError, requests.RequestException) as exc:
            last = f"submission failed: {_message(exc)}"
            if _transient(exc):
                continue
            raise TapError(
                f"{what}: the TAP service at {tap_url} refused the query: {_message(exc)}"
            ) from exc
        try:
            job.run()
            job.wait(timeout=job_timeout_s)
            job.raise_if_error()
            return _fetch(job, attempts, backoff_s, sleep)
        except DALQueryError as exc:  # the job ended in ERROR: the service's message
            last = f"job {job.job_id} failed: {_message(exc)}"
        except DALJobTimeoutError:
            last = f"job {job.job_id} did not finish within {job_timeout_s:g} s"
            _quietly(job.abort)
        except (DALServiceError, DALFormatError, requests.RequestException) as exc:
            status = _status(exc)
            if status == 404:
                last = f"job {job.job_id} was lost by the service (404)"
            elif _transient(exc):
                last = f"job {job.job_id}: {_message(exc)}"
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


def _fetch(job, attempts, backoff_s, sleep):
    """A finished job's result, fetched again after throttling, server or network errors."""
    from pyvo.dal import DALServiceError

    for attempt in range(attempts - 1):
        try:
            return job.fetch_result().to_table()
        except DALServiceError as exc:
            if not _transient(exc):
                raise
            sleep(backoff_s * 2**attempt)
    return job.fetch_result().to_table()  # the last try: its error goes to the caller


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.removeprefix("Query Error: ")


def _quietly(action) -> None:
    """Tidying up a job (abort, delete) must never hide the real outcome."""
    try:
        action()
    except Exception:  # noqa: BLE001 - a lost job cannot be deleted; nothing to do
        pass
