"""Light curves from match caches: reading them (whole, or a range of targets), applying the
quality cuts, keeping each (target, detection) once, sorted by target and time, and counting
each target's detections before the cuts.

Cuts (:mod:`neowise_lightcurves.cuts`) are applied here, when light curves are built, so that
changing them never matches again (a column a new cut needs is read for the matches alone).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .binning import epochs
from .columns import BASE_COLUMNS, LOCATION_COLUMNS, file_schema
from .cuts import cut_columns, cut_mask
from .photometry import with_flux_densities
from .reads import METADATA_KEY

#: Columns the light-curve table starts with, in this order.
LEADING = ("target_id", "cntr", "mjd", "ra", "dec", "dist_arcsec", "year")


def read_matches(
    paths: Iterable[str], ids=None, columns_files: dict[str, str] | None = None
) -> pa.Table:
    """Concatenate match cache files, or only the rows of the targets ``ids``, without their
    catalogue locations (:data:`neowise_lightcurves.columns.LOCATION_COLUMNS`), with any base
    column they lack as nulls (:func:`with_base_columns`).

    With ``ids``, each file is read a row group at a time and only the rows of those targets are
    kept, so memory follows the rows kept, not the files (a group's cones reach into neighbour
    shards' caches, which are mostly other groups' rows); row groups whose ``target_id``
    statistics lie outside ``ids``' range are skipped unread (cache files are sorted by target).

    ``columns_files`` maps a match file to its columns file (:func:`neowise_lightcurves.cache.
    columns_name`: the other columns of the same rows, in the same order and row groups), whose
    columns are added to its rows.

    Raises
    ------
    ValueError
        If a columns file does not line up with its match file (other rows, or another ``cntr``).
    """
    paths = list(paths)
    columns_files = columns_files or {}
    if not paths:
        raise ValueError("no match files to merge")
    value_set = None if ids is None else pa.array(_sorted_ids(ids), pa.string())
    tables = [_read_one(p, value_set, columns_files.get(p)) for p in paths]
    matches = pa.concat_tables(tables, promote_options="permissive")
    return with_base_columns(_without_read_records(matches))


def _read_one(path: str, value_set: pa.Array | None, columns_path: str | None) -> pa.Table:
    """One match file (see :func:`read_matches`): every row (``value_set`` None) or the rows of
    the targets in ``value_set``, with its columns file's columns."""
    with contextlib.ExitStack() as stack:
        pf = stack.enter_context(pq.ParquetFile(path))
        names = [n for n in pf.schema_arrow.names if n not in LOCATION_COLUMNS]
        side = stack.enter_context(pq.ParquetFile(columns_path)) if columns_path else None
        if side is not None and side.metadata.num_rows != pf.metadata.num_rows:
            raise ValueError(
                f"columns file {columns_path} has {side.metadata.num_rows} rows, its match file "
                f"{path} {pf.metadata.num_rows}: remove it to have it made again"
            )
        groups = range(pf.metadata.num_row_groups)
        if value_set is not None:
            if not len(value_set):
                groups = []
            else:
                low, high = value_set[0].as_py(), value_set[-1].as_py()
                column = pf.schema_arrow.get_field_index("target_id")
                groups = [i for i in groups if _may_hold(pf, i, column, low, high)]
        kept = []
        for i in groups:
            part = pf.read_row_group(i, columns=names)
            if side is not None:
                part = _with_columns(part, side.read_row_group(i), path, columns_path)
            if value_set is not None:
                part = part.filter(pc.is_in(part["target_id"], value_set=value_set))
            kept.append(part)
        if kept:
            return pa.concat_tables(kept)
        empty = pf.schema_arrow.empty_table().select(names)
        if side is not None:
            empty = _with_columns(empty, side.schema_arrow.empty_table(), path, columns_path)
        return empty


def _may_hold(pf: pq.ParquetFile, i: int, column: int, low: str, high: str) -> bool:
    """Whether row group ``i``'s ``target_id`` statistics allow an id in [low, high]."""
    stats = pf.metadata.row_group(i).column(column).statistics
    if stats is None or not stats.has_min_max:
        return True
    return not (stats.max < low or stats.min > high)


def _with_columns(part: pa.Table, side: pa.Table, path: str, columns_path: str) -> pa.Table:
    """``part`` (a match file's rows) with the columns of ``side`` (its columns file's same
    rows), after checking that their ``cntr`` agree."""
    if side.num_rows != part.num_rows or not side["cntr"].equals(part["cntr"]):
        raise ValueError(
            f"columns file {columns_path} does not line up with its match file {path}: remove "
            "it to have it made again"
        )
    for name in side.column_names:
        if name != "cntr" and name not in part.column_names:
            part = part.append_column(side.schema.field(name), side[name])
    return part


def _without_read_records(table: pa.Table) -> pa.Table:
    """The match job's read record stays with its cache file, not in what is built from it."""
    metadata = {k: v for k, v in (table.schema.metadata or {}).items() if k != METADATA_KEY}
    return table.replace_schema_metadata(metadata or None)


def _target_codes(matches: pa.Table, ids: np.ndarray) -> np.ndarray:
    """Each row's index in the sorted ``ids`` (-1 for a target not among them)."""
    code = pc.index_in(matches["target_id"], value_set=pa.array(ids, pa.string()))
    return code.fill_null(-1).to_numpy(zero_copy_only=False)


def _sorted_ids(targets) -> np.ndarray:
    ids = targets["target_id"] if isinstance(targets, pd.DataFrame) else targets
    return np.sort(pd.unique(np.asarray(ids, dtype=object)))


def with_base_columns(matches: pa.Table) -> pa.Table:
    """``matches`` with every base column (:data:`neowise_lightcurves.columns.BASE_COLUMNS`)
    it lacks added as nulls, typed as in the catalogue: what the light curves hold when the
    match jobs read fewer (``match.columns: notebook``). A zero point is then the calibration
    period's, and uncertainties and blending diagnostics are null."""
    missing = [c for c in BASE_COLUMNS if c not in matches.column_names]
    if not missing:
        return matches
    schema = file_schema()
    for name in missing:
        field = schema.field(name).with_nullable(True)
        matches = matches.append_column(field, pa.nulls(matches.num_rows, field.type))
    return matches


def detections_per_target(matches: pa.Table, targets) -> pd.Series:
    """Distinct detections (``cntr``) of each target of ``targets`` in ``matches`` (before any
    cut), indexed by target id; targets without any are left out."""
    ids = _sorted_ids(targets)
    code = _target_codes(matches, ids)
    cntr = matches["cntr"].to_numpy(zero_copy_only=False)
    keep = code >= 0
    code, cntr = code[keep], cntr[keep]
    order = np.lexsort((cntr, code))
    code, cntr = code[order], cntr[order]
    first = np.ones(len(code), dtype=bool)
    first[1:] = (code[1:] != code[:-1]) | (cntr[1:] != cntr[:-1])
    counts = np.bincount(code[first], minlength=len(ids))
    return pd.Series(counts, index=pd.Index(ids, name="target_id"))[counts > 0]


def build_lightcurves(
    matches: pa.Table | pd.DataFrame, targets, cuts: str = "", *, gap_days: float
) -> pa.Table:
    """One row per (target, detection) passing ``cuts``, sorted by target then ``mjd``.

    Only targets in ``targets`` (a frame with ``target_id``, or the ids themselves) are kept (a
    cache shared with an earlier target list, or a neighbouring shard's, holds others), and a
    (target, ``cntr``) pair only once. Columns: :data:`LEADING`, then the other light-curve and
    quality columns, with the types of ``matches`` (Arrow; a DataFrame is converted), with each
    exposure's zero point, flux densities (mJy) and saturation flags after the DN fluxes
    (:func:`neowise_lightcurves.photometry.with_flux_densities`; an exposure without a zero
    point of its own gets its visit's: visits split at gaps longer than ``gap_days``, d, as
    :func:`neowise_lightcurves.binning.epochs` splits them).
    """
    if isinstance(matches, pd.DataFrame):
        matches = pa.Table.from_pandas(matches, preserve_index=False)
    matches = with_base_columns(matches)
    # targets as integer codes in target_id order: sorting and de-duplicating on numbers
    code = _target_codes(matches, _sorted_ids(targets))
    names = set(cut_columns(cuts)) | {"target_id", "dist_arcsec", "year"}
    used = matches.select([c for c in matches.column_names if c in names]).to_pandas()
    rows = np.flatnonzero((code >= 0) & cut_mask(used, cuts))
    code = code[rows]
    mjd = matches["mjd"].to_numpy(zero_copy_only=False)[rows].astype(float)
    cntr = matches["cntr"].to_numpy(zero_copy_only=False)[rows]
    order = np.lexsort((cntr, mjd, code))
    # a detection's rows share its mjd, so a repeated (target, cntr) lands next to itself
    first = np.ones(len(order), dtype=bool)
    first[1:] = (code[order][1:] != code[order][:-1]) | (cntr[order][1:] != cntr[order][:-1])
    rows = rows[order[first]]
    columns = list(LEADING) + [
        c for c in matches.column_names if c not in LEADING and c not in LOCATION_COLUMNS
    ]
    # one take of every column, in the final order
    lc = matches.select(columns).take(pa.array(rows, pa.int64()))
    visits, _ = epochs(
        lc["target_id"].to_numpy(zero_copy_only=False), lc["mjd"].to_numpy(), gap_days
    )
    return with_flux_densities(lc, visits)
