"""Matching targets in the AllWISE Multiepoch Photometry (MEP): through IRSA's TAP service
(:func:`match_tap`) or a local copy in the NEOWISE layout (:func:`match_local`, the demo's),
each a coarse step and the exact great-circle test of
:class:`~neowise_lightcurves.matching.Cones`; one row per exposure
(:func:`one_row_per_exposure`, :func:`drop_repeated_exposures`) and the rows as a match cache
table (:func:`to_cache_table`). What the workflow needs of the MEP to plan a run (its columns,
names and cache keys) is :mod:`neowise_lightcurves.allwise`'s.
"""

from __future__ import annotations

import logging

from . import motion
from .allwise import EPOCH_MJD, NAME, RENAMES, mep_column, mep_schema

log = logging.getLogger(__name__)


#: Entries of one exposure closer than this (arcsec) to a nearer entry are the same source
#: measured again (an AllWISE Reject-Table duplicate from an overlapping Atlas Tile, or a repeated
#: row): :func:`one_row_per_exposure` keeps the nearer. Distinct AllWISE sources are not this
#: close (the W1 beam is 6").
DUPLICATE_ARCSEC = 1.0
#: Relative and absolute (arcsec) widening of the circle asked of the TAP service: it guards the
#: service's float rounding; the exact test (:class:`~neowise_lightcurves.matching.Cones`) follows.
QUERY_SLACK = (1e-6, 1e-3)


def query_columns(columns: tuple[str, ...] | list[str]) -> list[str]:
    """The MEP columns to read for cache ``columns``: the source's id and position and the
    exposure's time, then each light-curve column's source (:func:`mep_column`), and the fluxes
    and uncertainties whenever a ``w?snr`` is asked for."""
    out = ["cntr", "cntr_mf", "ra", "dec", "mjd"]
    wanted = list(columns)
    for band in ("w1", "w2"):
        if f"{band}snr" in wanted:
            wanted += [f"{band}flux", f"{band}sigflux"]
    for name in wanted:
        source = mep_column(name)
        if source is not None and source not in out:
            out.append(source)
    return out


def one_row_per_exposure(frame):
    """Each exposure of each source once per target.

    The MEP holds an exposure of a source more than once when the source has more than one
    entry (a Catalog source and its Reject-Table duplicate from an overlapping Atlas Tile, at
    or near the same position) or a row is repeated. Per (target, exposure ``mjd``), entries
    within :data:`DUPLICATE_ARCSEC` of a nearer kept entry are dropped: the nearest to the
    target is kept (ties: the lower MEP ``cntr``, the Catalog's entry before a later one; a
    cache's ``cntr`` is minus the MEP's, so the absolute value is compared), farther distinct
    sources stay.

    Parameters
    ----------
    frame : pandas.DataFrame
        A target's MEP matches: ``target_id``, ``mjd`` (d), ``dist_arcsec`` (arcsec),
        ``cntr``, ``ra``, ``dec`` (deg), ...

    Returns
    -------
    pandas.DataFrame
        The rows kept, sorted by ``target_id``, ``mjd``, ``dist_arcsec``, MEP ``cntr``.
    """
    import numpy as np

    from . import sky

    frame = (
        frame.assign(_mep_cntr=frame["cntr"].abs())
        .sort_values(["target_id", "mjd", "dist_arcsec", "_mep_cntr"], kind="stable")
        .drop(columns="_mep_cntr")
        .reset_index(drop=True)
    )
    n = len(frame)
    if n < 2:
        return frame
    key = frame[["target_id", "mjd"]]
    group = np.cumsum(np.r_[True, (key.iloc[1:].to_numpy() != key.iloc[:-1].to_numpy()).any(1)])
    vec = sky.unit_vectors(frame["ra"].to_numpy(float), frame["dec"].to_numpy(float))
    state = np.zeros(n, np.int8)  # 0 undecided, 1 kept, 2 dropped
    while (state == 0).any():
        open_ = np.flatnonzero(state == 0)
        # the first undecided row of each group is kept (rows are nearest-first)
        first = open_[np.r_[True, group[open_][1:] != group[open_][:-1]]]
        state[first] = 1
        leader = np.full(group.max() + 1, -1)
        leader[group[first]] = first
        rest = open_[state[open_] == 0]
        lead = leader[group[rest]]
        has = lead >= 0
        sep = sky.chord_to_arcsec(np.linalg.norm(vec[rest[has]] - vec[lead[has]], axis=1))
        state[rest[has][sep < DUPLICATE_ARCSEC]] = 2
    return frame[state == 1].reset_index(drop=True)


def drop_repeated_exposures(table):
    """A light-curve job's matches (Arrow, every year) with each MEP exposure of a source once
    per target (:func:`one_row_per_exposure` on the ``allwise`` rows; the others untouched, in
    their order). Done here, where a target's matches from every shard its cone touches come
    together: a source and its duplicate can lie in two shards' partitions.

    Parameters
    ----------
    table : pyarrow.Table
        Cached matches with ``target_id``, ``year``, ``mjd``, ``dist_arcsec``, ``cntr``,
        ``ra``, ``dec``.

    Returns
    -------
    pyarrow.Table
        The rows kept.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    mep = pc.fill_null(pc.equal(table["year"], NAME), False).to_numpy(zero_copy_only=False)
    if not mep.any():
        return table
    rows = np.flatnonzero(mep)
    frame = table.select(["target_id", "mjd", "dist_arcsec", "cntr", "ra", "dec"])
    frame = frame.take(pa.array(rows)).to_pandas()
    frame["_row"] = rows
    keep = ~mep
    keep[one_row_per_exposure(frame)["_row"].to_numpy()] = True
    return table.filter(pa.array(keep))


def to_cache_table(frame, columns: tuple[str, ...]):
    """MEP matches as a match cache table (:func:`~neowise_lightcurves.matching.output_schema`):
    ``year`` :data:`NAME`, the light-curve columns from their MEP sources (:data:`RENAMES`),
    fluxes as the MEP gives them (DN on its own zero points), ``cntr`` minus the MEP row's own,
    ``w?snr`` = flux / uncertainty (null where the flux is negative, as NEOWISE's), and
    null for the columns the MEP lacks. Sorted by ``target_id``, ``mjd``, ``cntr``."""
    import numpy as np
    import pyarrow as pa

    from .matching import output_schema

    schema = output_schema(tuple(columns), locations=False)
    n = len(frame)
    out = {
        "target_id": frame["target_id"].astype(str).to_numpy(object),
        "dist_arcsec": frame["dist_arcsec"].to_numpy(np.float64),
        "year": np.full(n, NAME, dtype=object),
    }
    for name in columns:
        band = name[:2]
        if name == "cntr":  # negated: never equal to a NEOWISE row's
            out[name] = -frame["cntr"].to_numpy(np.int64)
        elif name in ("w1snr", "w2snr"):
            flux = frame[RENAMES[f"{band}flux"]].to_numpy(np.float64)
            sig = frame[RENAMES[f"{band}sigflux"]].to_numpy(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[name] = np.where(flux >= 0, flux / sig, np.nan)
        elif mep_column(name) is None:
            out[name] = pa.nulls(n, schema.field(name).type)
        else:
            out[name] = frame[mep_column(name)]
    arrays = []
    for field in schema:
        v = out[field.name]
        if isinstance(v, pa.Array):
            arrays.append(v)
        else:
            arrays.append(pa.array(v, type=field.type, from_pandas=True))
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.sort_by([("target_id", "ascending"), ("mjd", "ascending"), ("cntr", "ascending")])


def at_epoch(rows):
    """A shard's rows with each moving target at its position at :data:`EPOCH_MJD` and its
    proper motion dropped: the MEP's positions are AllWISE's, one per source at that epoch, so
    a moving target is matched there (not at each exposure's time, when it was up to ~200 days
    away from it: 4" for a 7.5"/yr star)."""

    if not motion.has_motion(rows):
        return rows
    pmra, pmdec, epoch = motion.proper_motions(rows)
    ra, dec = motion.positions_at(rows["ra"], rows["dec"], pmra, pmdec, epoch, EPOCH_MJD)
    return rows.drop(columns=list(motion.COLUMNS)).assign(ra=ra, dec=dec)


def _owned(rows, targets, target_index, ra, dec):
    """Which matches (target ``target_index``, MEP source at ``ra``/``dec``) this shard owns:
    the source's order-5 partition is one of the target's partitions in the shard's rows. A
    target whose cone spans shards is matched in each, every source once, as in NEOWISE."""
    import numpy as np

    from . import sky

    position = {tid: i for i, tid in enumerate(targets["target_id"])}
    row_target = rows["target_id"].map(position).to_numpy(np.int64)
    span = np.int64(12 * 4**sky.PARTITION_ORDER)  # partitions on the sky
    owned = row_target * span + rows["k5"].to_numpy(np.int64)
    k5 = np.asarray(sky.partition_of(ra, dec), dtype=np.int64)
    return np.isin(np.asarray(target_index, np.int64) * span + k5, owned)


def match_tap(
    rows,
    radius_arcsec: float,
    columns: tuple[str, ...],
    *,
    tap_url: str,
    table: str,
    max_upload_rows: int,
    max_answer_rows: int,
    attempts: int,
    backoff_s: float,
    job_timeout_s: float,
    what: str,
    sleep=None,
):
    """Match one shard's targets in the MEP through a TAP service: an upload of the targets
    (moving ones at AllWISE's epoch, :func:`at_epoch`) and a positional join on a slightly
    larger circle (:data:`QUERY_SLACK`), then the exact test of
    :class:`~neowise_lightcurves.matching.Cones` on each returned pair and the shard's
    partitions (:func:`_owned`). An exposure the MEP holds twice is dropped later, where a
    target's matches from every shard come together (:func:`drop_repeated_exposures`).

    Every TAP job asks for at most ``max_answer_rows`` rows (``MAXREC``) and its answer's
    overflow status is checked: a cut answer is asked again for half the targets, down to one
    target, whose answer still cut fails the job (:func:`neowise_lightcurves.tap.upload_answers`);
    nothing cut is ever returned.

    Parameters
    ----------
    rows : pandas.DataFrame
        The shard's (target, partition) rows from the manifest (``target_id, ra, dec, k5``, and
        ``pmra, pmdec, pm_epoch`` for moving targets).
    radius_arcsec : float
        Cone radius (arcsec).
    columns : tuple of str
        The cache's catalogue columns (:func:`~neowise_lightcurves.columns.cached_columns`).
    tap_url, table : str
        The TAP service and the MEP's table name there.
    max_upload_rows, attempts, backoff_s, job_timeout_s, what, sleep
        As :func:`neowise_lightcurves.tap.upload_answers`.
    max_answer_rows : int
        Most rows one TAP answer may have (``max_rows`` of
        :func:`~neowise_lightcurves.tap.upload_answers`).

    Returns
    -------
    pyarrow.Table
        The match cache table (:func:`to_cache_table`).
    """
    import numpy as np
    import pyarrow as pa
    from astropy.table import Table

    from . import tap
    from .matching import Cones

    rows = at_epoch(rows)
    targets = rows.drop_duplicates("target_id", ignore_index=True)
    cones = Cones(targets["ra"], targets["dec"], radius_arcsec)
    wanted = query_columns(columns)
    r = radius_arcsec * (1 + QUERY_SLACK[0]) + QUERY_SLACK[1]
    query = tap.positional_join("u", table, wanted, r / 3600.0, ("target_index",))
    n = len(targets)
    upload = Table(
        {
            "target_index": np.arange(n),
            "ra": targets["ra"].to_numpy(float),
            "dec": targets["dec"].to_numpy(float),
        }
    )
    answers = tap.upload_answers(
        tap_url,
        query,
        upload,
        max_upload_rows=max_upload_rows,
        max_rows=max_answer_rows,
        attempts=attempts,
        backoff_s=backoff_s,
        job_timeout_s=job_timeout_s,
        what=what,
        noun="targets",
        limit_hint=(
            "raise catalog.allwise_mep.max_answer_rows (up to the service's own limit) or "
            "lower match.radius_arcsec"
        ),
        **({} if sleep is None else {"sleep": sleep}),
    )
    pieces = []
    # chunk by chunk, each answer reduced to its matches before the next is asked for: the
    # job's memory follows one chunk's answer (at most max_answer_rows rows), not the shard's
    for start, stop, answer in answers if n else ():
        found = answer_frame(answer, ["target_index", *wanted])
        del answer
        label = what if (start, stop) == (0, n) else f"{what} (targets {start + 1}-{stop} of {n})"
        log.info("%s: %d rows from the service", label, len(found))
        pieces.append(answer_matches(found, targets, rows, cones, columns))
    if not pieces:
        return to_cache_table(answer_frame(None, ["target_id", "dist_arcsec", *wanted]), columns)
    table = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
    return table.sort_by([("target_id", "ascending"), ("mjd", "ascending"), ("cntr", "ascending")])


def answer_frame(answer, names):
    """The service's answer (an astropy table; None for none) as pandas, its columns ``names``
    (masked values as NaN/None; bytes as str).

    Raises
    ------
    RuntimeError
        If the answer lacks one of ``names``.
    """
    import pandas as pd

    if answer is None or len(answer) == 0:
        return pd.DataFrame({n: pd.Series(dtype=float) for n in names})
    missing = [n for n in names if n not in answer.colnames]
    if missing:
        raise RuntimeError(f"the TAP service's answer lacks column(s): {', '.join(missing)}")
    frame = answer[names].to_pandas()
    for n in names:
        if frame[n].dtype == object:  # bytes from some VOTable writers
            frame[n] = frame[n].map(lambda v: v.decode() if isinstance(v, bytes) else v)
    return frame


def answer_matches(found, targets, rows, cones, columns):
    """A TAP answer's matches as a cache table: the exact test on the returned (target, entry)
    pairs and the shard's partitions (:func:`_owned`), the columns mapped
    (:func:`to_cache_table`).

    Parameters
    ----------
    found : pandas.DataFrame
        The answer (:func:`answer_frame`): ``target_index`` (into ``targets``) and MEP columns.
    targets : pandas.DataFrame
        The shard's targets, one row each (moving ones at AllWISE's epoch).
    rows : pandas.DataFrame
        The shard's (target, partition) rows.
    cones : Cones
        The targets' cones (:class:`~neowise_lightcurves.matching.Cones`).
    columns : tuple of str
        The cache's catalogue columns.

    Returns
    -------
    pyarrow.Table
        The match cache table (:func:`to_cache_table`).
    """
    import numpy as np

    index = found["target_index"].to_numpy(np.int64)
    ti, di, dist = cones.match(found["ra"].to_numpy(float), found["dec"].to_numpy(float))
    same = ti == index[di]  # the pair the service returned (an entry is also returned for
    ti, di, dist = ti[same], di[same], dist[same]  # each other target whose cone holds it)
    picked = found.iloc[di].reset_index(drop=True)
    keep = _owned(rows, targets, ti, picked["ra"].to_numpy(float), picked["dec"].to_numpy(float))
    picked = picked[keep].reset_index(drop=True)
    picked.insert(0, "target_id", targets["target_id"].to_numpy(object)[ti[keep]])
    picked.insert(1, "dist_arcsec", dist[keep])
    return to_cache_table(picked, columns)


def match(
    rows, radius_arcsec, columns, settings, *, root, s3, concurrent_partitions, what, record=None
):
    """One shard's (or :func:`~neowise_lightcurves.inprocess.fetch`'s) MEP matches: through the
    TAP service of ``settings`` (:func:`match_tap`) when ``root`` is None, else from the local
    copy under ``root`` (:func:`match_local`).

    Parameters
    ----------
    rows : pandas.DataFrame
        The (target, partition) rows.
    radius_arcsec : float
        Cone radius (arcsec).
    columns : tuple of str
        The cache's catalogue columns.
    settings : dict
        The config's ``catalog.allwise_mep``: ``tap_url``, ``table``, ``max_upload_rows``,
        ``max_answer_rows``, ``attempts``, ``backoff_s``, ``job_timeout_s``.
    root : str or None
        A local copy's root, or None for the TAP service.
    s3 : dict
        ``catalog.s3``, for a copy on S3.
    concurrent_partitions : int
        Partition files of a copy read at once.
    what : str
        What is asked, for a TAP error's message.
    record : ReadRecord, optional
        Added what is read from a copy.

    Returns
    -------
    pyarrow.Table
        The match cache table (:func:`to_cache_table`).
    """
    if root is None:
        return match_tap(
            rows,
            radius_arcsec,
            columns,
            tap_url=settings["tap_url"],
            table=settings["table"],
            max_upload_rows=settings["max_upload_rows"],
            max_answer_rows=settings["max_answer_rows"],
            attempts=settings["attempts"],
            backoff_s=settings["backoff_s"],
            job_timeout_s=settings["job_timeout_s"],
            what=what,
        )
    from .catalog import open_catalog

    copy = open_catalog(root, s3=s3)
    return match_local(copy, rows, radius_arcsec, columns, concurrent_partitions, record)


def match_local(catalog, rows, radius_arcsec, columns, concurrent_partitions, record=None):
    """Match one shard's targets (moving ones at AllWISE's epoch, :func:`at_epoch`) in a local
    copy of the MEP (:data:`~neowise_lightcurves.catalog.ALLWISE_DATASET` under the root of
    ``catalog``, the NEOWISE layout: the demo's) with the NEOWISE read path
    (:func:`~neowise_lightcurves.matching.match_shard`, the exact test included).

    Parameters
    ----------
    catalog : Catalog
        The copy's root (:func:`~neowise_lightcurves.catalog.open_catalog`).
    rows : pandas.DataFrame
        The shard's (target, partition) rows from the manifest.
    radius_arcsec : float
        Cone radius (arcsec).
    columns : tuple of str
        The cache's catalogue columns.
    concurrent_partitions : int
        Partition files read at once.
    record : ReadRecord, optional
        Added what the job reads.

    Returns
    -------
    pyarrow.Table
        The match cache table (:func:`to_cache_table`).
    """
    from .matching import match_shard

    wanted = tuple(query_columns(columns))
    found = match_shard(
        catalog,
        NAME,
        at_epoch(rows),
        radius_arcsec,
        wanted,
        concurrent_partitions,
        record,
        mep_schema(),
    ).to_pandas()
    return to_cache_table(found, columns)
