"""Light curves: merging match caches, applying quality cuts, and a per-target summary.

Cuts (:mod:`neowise_lightcurves.cuts`) are applied here, at merge time, so that changing them
never re-reads the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .cuts import apply_cuts

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
    others). Columns: :data:`LEADING`, then the other light-curve and quality columns.
    """
    keep = matches[matches["target_id"].isin(targets["target_id"])]
    keep = apply_cuts(keep, cuts)
    keep = keep.drop_duplicates(["target_id", "cntr"])
    keep = keep.sort_values(["target_id", "mjd", "cntr"], kind="stable", ignore_index=True)
    order = list(LEADING) + [c for c in keep.columns if c not in LEADING]
    return keep[order]


def epochs(mjd: np.ndarray, gap_days: float = EPOCH_GAP_DAYS) -> np.ndarray:
    """Epoch number of each time in a sorted ``mjd`` array (a new one after gaps > ``gap_days``)."""
    mjd = np.asarray(mjd, float)
    if len(mjd) == 0:
        return np.zeros(0, np.int64)
    return np.concatenate([[0], np.cumsum(np.diff(mjd) > gap_days)]).astype(np.int64)


def epoch_starts(lightcurves: pd.DataFrame, gap_days: float = EPOCH_GAP_DAYS) -> np.ndarray:
    """Whether each row of a light-curve table (sorted by target, then ``mjd``) starts an epoch."""
    tid = lightcurves["target_id"].to_numpy()
    mjd = lightcurves["mjd"].to_numpy(dtype=float)
    start = np.ones(len(tid), dtype=bool)
    start[1:] = (tid[1:] != tid[:-1]) | (np.diff(mjd) > gap_days)
    return start
