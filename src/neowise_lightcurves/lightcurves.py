"""Light curves from match caches: reading them (whole, or a range of targets), applying the
quality cuts, keeping each (target, detection) once, sorted by target and time, and counting
each target's detections before the cuts.

Cuts (:mod:`neowise_lightcurves.cuts`) are applied here, when light curves are built, so that
changing them never re-reads the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .cuts import cut_columns, cut_mask

#: Columns the light-curve table starts with, in this order.
LEADING = ("target_id", "cntr", "source_id", "mjd", "ra", "dec", "dist_arcsec", "year")


def read_matches(
    paths: Iterable[str], first: str | None = None, last: str | None = None
) -> pa.Table:
    """Concatenate match cache files, or only their rows with ``first <= target_id <= last``
    (cache files are sorted by target, so their row-group statistics skip the rest)."""
    paths = list(paths)
    if not paths:
        raise ValueError("no match files to merge")
    filters = None
    if first is not None:
        filters = [("target_id", ">=", first), ("target_id", "<=", last)]
    tables = [pq.read_table(p, filters=filters) for p in paths]
    return pa.concat_tables(tables, promote_options="permissive")


def _target_codes(matches: pa.Table, ids: np.ndarray) -> np.ndarray:
    """Each row's index in the sorted ``ids`` (-1 for a target not among them)."""
    code = pc.index_in(matches["target_id"], value_set=pa.array(ids, pa.string()))
    return code.fill_null(-1).to_numpy(zero_copy_only=False)


def _sorted_ids(targets) -> np.ndarray:
    ids = targets["target_id"] if isinstance(targets, pd.DataFrame) else targets
    return np.sort(pd.unique(np.asarray(ids, dtype=object)))


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


def build_lightcurves(matches: pa.Table | pd.DataFrame, targets, cuts: str = "") -> pa.Table:
    """One row per (target, detection) passing ``cuts``, sorted by target then ``mjd``.

    Only targets in ``targets`` (a frame with ``target_id``, or the ids themselves) are kept (a
    cache shared with an earlier target list, or a neighbouring shard's, holds others), and a
    (target, ``cntr``) pair only once. Columns: :data:`LEADING`, then the other light-curve and
    quality columns, with the types of ``matches`` (Arrow; a DataFrame is converted).
    """
    if isinstance(matches, pd.DataFrame):
        matches = pa.Table.from_pandas(matches, preserve_index=False)
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
    columns = list(LEADING) + [c for c in matches.column_names if c not in LEADING]
    # one take of every column, in the final order
    return matches.select(columns).take(pa.array(rows, pa.int64()))
