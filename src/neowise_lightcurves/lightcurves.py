"""Light curves: merging match caches, applying quality cuts, and a per-target summary.

Cuts (:mod:`neowise_lightcurves.cuts`) are applied here, at merge time, so that changing them
never re-reads the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .cuts import cut_mask

#: Columns the light-curve table starts with, in this order.
LEADING = ("target_id", "cntr", "source_id", "mjd", "ra", "dec", "dist_arcsec", "year")

#: Gap (days) that separates epochs (visits), as in IRSA's notebook.
EPOCH_GAP_DAYS = 30.0


def read_matches(paths: Iterable[str]) -> pd.DataFrame:
    """Concatenate match cache files into one DataFrame (Arrow types kept where pandas can)."""
    tables = [pq.read_table(p) for p in paths]
    if not tables:
        raise ValueError("no match files to merge")
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.to_pandas()


def build_lightcurves(matches: pd.DataFrame, targets: pd.DataFrame, cuts: str = "") -> pd.DataFrame:
    """One row per (target, detection) passing ``cuts``, sorted by target then ``mjd``.

    Only targets in ``targets`` are kept (a cache shared with an earlier target list may hold
    others), and a (target, ``cntr``) pair only once. Columns: :data:`LEADING`, then the other
    light-curve and quality columns.
    """
    # targets as integer codes in target_id order: sorting and de-duplicating on numbers
    ids = np.sort(pd.unique(targets["target_id"].to_numpy(dtype=object)))
    code = pc.index_in(
        pa.array(matches["target_id"], pa.string()), value_set=pa.array(ids, pa.string())
    )
    code = code.fill_null(-1).to_numpy()
    rows = np.flatnonzero((code >= 0) & cut_mask(matches, cuts))
    code = code[rows]
    mjd = matches["mjd"].to_numpy(dtype=float, na_value=np.nan)[rows]
    cntr = matches["cntr"].to_numpy()[rows]
    order = np.lexsort((cntr, mjd, code))
    # a detection's rows share its mjd, so a repeated (target, cntr) lands next to itself
    repeat = (code[order][1:] == code[order][:-1]) & (cntr[order][1:] == cntr[order][:-1])
    rows = rows[order[np.concatenate([[True], ~repeat])]]
    columns = list(LEADING) + [c for c in matches.columns if c not in LEADING]
    # one take of every column, in the final order
    return matches.iloc[rows, [matches.columns.get_loc(c) for c in columns]].reset_index(drop=True)


def epochs(mjd: np.ndarray, gap_days: float = EPOCH_GAP_DAYS) -> np.ndarray:
    """Epoch number of each time in a sorted ``mjd`` array (a new one after gaps > ``gap_days``)."""
    mjd = np.asarray(mjd, float)
    if len(mjd) == 0:
        return np.zeros(0, np.int64)
    return np.concatenate([[0], np.cumsum(np.diff(mjd) > gap_days)]).astype(np.int64)
