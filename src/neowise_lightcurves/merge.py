"""One group's light curves, binned epochs, summary rows and per-target files, built from the
match caches, a batch of targets at a time.

A group's targets (those whose own position lies in its pixel, see
:mod:`neowise_lightcurves.manifest`) have their matches in the caches of every shard their cones
touch, in every year. Where those files hold more than ``batch_rows`` rows in all, the rows per
target are counted first, from the ``target_id`` column alone; the group's targets, in id order,
are cut into batches of at most ``batch_rows`` cached rows (a target with more is a batch of its
own), and each batch is read (a row group at a time, keeping only its targets' rows; row groups
outside its ids' range are skipped: cache files are sorted by target), cut, sorted, binned,
summarised and appended to the group's output files. Memory follows the batch, not the group
nor the neighbour shards' caches it reads from.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import (
    allwise_match,
    association,
    binning,
    lightcurves,
    periods,
    photometry,
    summary,
    surveys,
    target_files,
)
from .atomic import atomic_directory, atomic_path

log = logging.getLogger(__name__)

#: Most cached rows one batch holds (~0.4 GB of peak memory at ~0.8 KB a row).
BATCH_ROWS = 500_000
#: Rows per row group of the group's light-curve and binned files: a reader that wants a few
#: targets decodes only the row groups that hold them.
ROW_GROUP_ROWS = 50_000
#: Columns binning and the summary need from the light curves.
_BINNING_COLUMNS = (
    "target_id",
    "mjd",
    "year",
    "w1flux",
    "w1sigflux",
    "w2flux",
    "w2sigflux",
) + photometry.EXPOSURE_COLUMNS
#: ... and the association diagnostics.
_POSITION_COLUMNS = ("ra", "dec")


def rows_per_target(paths: list[str], ids: np.ndarray) -> np.ndarray:
    """Cached rows of each of the sorted ``ids`` over the files ``paths`` (their ``target_id``
    column only)."""
    counts = np.zeros(len(ids), dtype=np.int64)
    value_set = pa.array(ids, pa.string())
    for path in paths:
        vc = pc.value_counts(pq.read_table(path, columns=["target_id"])["target_id"])
        where = pc.index_in(vc.field("values"), value_set=value_set).fill_null(-1).to_numpy()
        ok = where >= 0
        np.add.at(counts, where[ok], vc.field("counts").to_numpy()[ok])
    return counts


def target_batches(rows: np.ndarray, max_rows: int) -> list[slice]:
    """Consecutive runs of targets (their row counts ``rows``, in id order) holding at most
    ``max_rows`` rows each; a target with more rows is a run of its own."""
    batches, start, n = [], 0, 0
    for i, r in enumerate(rows):
        if i > start and n + r > max_rows:
            batches.append(slice(start, i))
            start, n = i, 0
        n += int(r)
    if len(rows):
        batches.append(slice(start, len(rows)))
    return batches


@dataclass
class Outputs:
    """Where one group's results go."""

    lightcurves: str | Path
    binned: str | Path
    summary: str | Path
    #: per-target files (None: none), in ``formats``
    per_target: str | Path | None = None
    formats: tuple[str, ...] = ()


class _Appender:
    """Appends Arrow tables to one Parquet file written atomically (renamed when ``stack``
    closes without an error); every table is cast to the first one's schema."""

    def __init__(self, stack: ExitStack, path, metadata: dict):
        self.tmp = stack.enter_context(atomic_path(path))
        self.metadata = {k: str(v) for k, v in metadata.items()}
        self.writer: pq.ParquetWriter | None = None
        stack.callback(self.close)

    def append(self, table: pa.Table) -> None:
        if self.writer is None:
            schema = table.schema.with_metadata({**(table.schema.metadata or {}), **self.metadata})
            self.writer = pq.ParquetWriter(self.tmp, schema)
        self.writer.write_table(table.cast(self.writer.schema), row_group_size=ROW_GROUP_ROWS)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _frame_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def merge_group(
    match_paths: list[str],
    homes: pd.DataFrame,
    outputs: Outputs,
    cuts: str,
    binning_options: dict,
    metadata: dict,
    group: str,
    batch_rows: int = BATCH_ROWS,
    *,
    association_options: dict | None,
    periods_options: dict | None,
    columns_files: dict[str, str] | None = None,
) -> dict:
    """Build one group's outputs from its match caches.

    Parameters
    ----------
    match_paths : list of str
        Cache files of every shard the group's targets' cones touch, every year.
    homes : pandas.DataFrame
        The group's targets: ``target_id``, ``ra``, ``dec`` (deg).
    outputs : Outputs
        The group's light-curve, binned and summary files, and per-target files.
    cuts : str
        Quality cuts (:mod:`neowise_lightcurves.cuts`).
    binning_options : dict
        ``gap_days`` (d), ``sigma``, ``iterations``: see
        :func:`~neowise_lightcurves.binning.bin_visits`.
    metadata : dict
        Provenance, written into every output.
    group : str
        The group's name, in the summary's ``group`` column.
    batch_rows : int
        Most cached rows read at once.
    association_options : dict, optional
        Settings of the second-source test (config ``association``, see
        :func:`~neowise_lightcurves.association.second_source`); None: not run.
    periods_options : dict or None
        The config's ``periods`` keys (see :func:`~neowise_lightcurves.periods.periods`):
        each target's best period in the summary; None: no period columns.
    columns_files : dict, optional
        Each match file's columns file, where it has one (:func:`~neowise_lightcurves.
        lightcurves.read_matches`).

    Returns
    -------
    dict
        Counts: ``targets``, ``with_detections``, ``detections``, ``epochs``, ``batches``,
        ``files`` (per-target files).
    """
    homes = homes.drop_duplicates("target_id").sort_values("target_id", ignore_index=True)
    ids = homes["target_id"].to_numpy(dtype=object)
    if sum(pq.read_metadata(p).num_rows for p in match_paths) <= batch_rows:
        batches = [slice(0, len(ids))] if len(ids) else []  # all in one: no need to count
    else:
        batches = target_batches(rows_per_target(match_paths, ids), batch_rows)
    stats = dict(targets=len(ids), with_detections=0, detections=0, epochs=0, files=0)
    stats["batches"] = len(batches)
    index = []
    with ExitStack() as stack:
        lc_out = _Appender(stack, outputs.lightcurves, metadata)
        binned_out = _Appender(stack, outputs.binned, metadata)
        summary_out = _Appender(stack, outputs.summary, metadata)
        folder = None
        if outputs.per_target is not None:
            folder = stack.enter_context(atomic_directory(outputs.per_target))
            subfolders = target_files.needs_subfolders(len(ids), outputs.formats)
        for batch in batches or [slice(0, 0)]:
            mine = ids[batch]
            matches = lightcurves.read_matches(match_paths, mine, columns_files)
            matches = allwise_match.drop_repeated_exposures(matches)  # from every shard at once
            before = lightcurves.detections_per_target(matches, mine)
            # association from NEOWISE's own detections: an AllWISE MEP row carries its deep
            # source's position and flags, the same for all its exposures
            own = pa.array(~surveys.mep_rows(matches["year"]))
            flags = association.flag_fractions(matches.filter(own), mine)  # before the cuts
            lc = lightcurves.build_lightcurves(
                matches, mine, cuts, gap_days=binning_options["gap_days"]
            )
            del matches
            small = lc.select(list(_BINNING_COLUMNS + _POSITION_COLUMNS)).to_pandas()
            binned = binning.bin_visits(
                small,
                binning_options["gap_days"],
                binning_options["sigma"],
                binning_options["iterations"],
            )
            diagnostics = association.diagnostics(
                small[~surveys.mep_rows(small["year"])],
                homes.iloc[batch],
                association_options,
                flags,
            )
            found = None
            if periods_options is not None:  # a batch holds all of its targets' rows
                found = periods.periods(small, periods_options)
            table = summary.summarize(
                small,
                homes.iloc[batch],
                binned,
                n_before_cuts=before,
                diagnostics=diagnostics,
                periods=found,
            )
            table["group"] = group
            lc_out.append(lc)
            binned_out.append(_frame_table(binned))
            summary_out.append(_frame_table(table))
            if folder is not None and outputs.formats and lc.num_rows:
                index.append(
                    target_files.write_target_files(
                        lc, binned, folder, list(outputs.formats), metadata, subfolders
                    )
                )
            stats["with_detections"] += int((table["n_detections"] > 0).sum())
            stats["detections"] += lc.num_rows
            stats["epochs"] += len(binned)
        if folder is not None:
            frame = pd.concat(index, ignore_index=True) if index else target_files.empty_index()
            stats["files"] = len(frame)
            pq.write_table(_frame_table(frame), folder / target_files.INDEX_NAME)
    return stats
