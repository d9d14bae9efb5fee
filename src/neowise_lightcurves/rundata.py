"""A run's outputs read for looking at them (the explorer, the static export): the summary
once, then one target at a time its exposures, binned epochs, per-target files and the
detections the cuts removed, each read on demand without scanning the rest.

Everything is read through :func:`neowise_lightcurves.outputs.read_lightcurves` and the run's
own tables; nothing under ``outdir`` is written.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from .outputs import LIGHTCURVES, PER_TARGET, SUMMARY, read_lightcurves, schema_provenance
from .summary import UNITS
from .target_files import INDEX_NAME


@dataclass
class Run:
    """One run's summary (in memory) and where its other outputs are.

    Attributes
    ----------
    outdir : Path
        The run's ``outdir``.
    summary : pandas.DataFrame
        ``summary.parquet``, one row per target, in the file's order.
    meta : dict
        The run's provenance (``catalog_root``, ``years``, ``radius_arcsec``, ``cuts``, ...).
    units : dict
        Unit of each summary column that has one (``deg``, ``d``, ``mag``, ``mJy``, ...).
    """

    outdir: Path
    summary: pd.DataFrame
    meta: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)

    @property
    def numeric_columns(self) -> list[str]:
        """Summary columns holding numbers (counts, statistics, flags as 0/1 excluded)."""
        return [
            c
            for c in self.summary.columns
            if pd.api.types.is_numeric_dtype(self.summary[c])
            and not pd.api.types.is_bool_dtype(self.summary[c])
        ]


def open_run(outdir: str | os.PathLike) -> Run:
    """Read a run's summary and provenance.

    Parameters
    ----------
    outdir : path
        The run's ``outdir`` (holding ``summary.parquet``).

    Raises
    ------
    FileNotFoundError
        ``outdir`` has no ``summary.parquet``: not a finished run.
    """
    outdir = Path(outdir)
    path = outdir / SUMMARY
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {outdir} a finished run's outdir?")
    table = pq.read_table(path)
    meta = schema_provenance(table.schema)
    if not meta:  # older summaries carry no provenance: the light curves do
        files = sorted((outdir / LIGHTCURVES).glob("*.parquet"))
        if files:
            meta = schema_provenance(pq.read_schema(files[0]))
    # column by column, each Arrow buffer freed once converted: memory holds one copy at a time
    summary = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    units = {c: UNITS[c] for c in summary.columns if c in UNITS}
    return Run(outdir, summary, meta, units)


@dataclass
class TargetRows:
    """One target's rows: exposures (after the cuts), binned epochs, and its files.

    Attributes
    ----------
    target_id : str
    exposures : pandas.DataFrame
        ``read_lightcurves(outdir, target_id)``: one row per detection, sorted by ``mjd``.
    epochs : pandas.DataFrame
        ``read_lightcurves(outdir, target_id, binned=True)``: one row per binned epoch.
    files : pandas.DataFrame or None
        Its per-target files: ``kind``, ``format``, ``path`` (relative to ``per_target/``);
        None when not read.
    """

    target_id: str
    exposures: pd.DataFrame
    epochs: pd.DataFrame
    files: pd.DataFrame | None


def target_rows(
    outdir: str | os.PathLike, target_id: str, files: bool = True, group: str | None = None
) -> TargetRows:
    """One target's exposures, binned epochs and (with ``files``) files, read at once (in
    threads); ``group``, its summary's ``group`` where the caller knows it, spares reading the
    summary.

    Raises
    ------
    KeyError
        The target is not in the run's summary.
    """
    with ThreadPoolExecutor(3) as pool:
        hint = {target_id: group} if group is not None else None
        raw = pool.submit(read_lightcurves, outdir, target_id, groups=hint)
        binned = pool.submit(read_lightcurves, outdir, target_id, binned=True, groups=hint)
        found = pool.submit(target_files, outdir, target_id) if files else None
        return TargetRows(
            target_id, raw.result(), binned.result(), found.result() if found else None
        )


def target_files(outdir: str | os.PathLike, target_id: str) -> pd.DataFrame:
    """The per-target files of ``target_id`` from ``per_target/index.parquet``: ``kind``,
    ``format``, ``path`` (relative to ``per_target/``); none when the run wrote none."""
    index = Path(outdir) / PER_TARGET / INDEX_NAME
    if not index.is_file():
        return pd.DataFrame(columns=["kind", "format", "path"])
    found = pd.read_parquet(index, filters=[("target_id", "==", target_id)])
    return found[["kind", "format", "path"]].reset_index(drop=True)


def cut_detections(run: Run, target_id: str, kept: pd.DataFrame) -> pd.DataFrame | None:
    """The detections of ``target_id`` within the run's radius that its cuts removed, with the
    light curves' columns (flux densities included), read from the run's match cache.

    Parameters
    ----------
    run : Run
    target_id : str
    kept : pandas.DataFrame
        The target's light curve after the cuts (its ``cntr`` are left out).

    Returns
    -------
    pandas.DataFrame or None
        Sorted by ``mjd``; empty when the cuts removed nothing; None when the run's cache or
        manifest is gone (pruned, or another machine's run), so it cannot be told.
    """
    from . import allwise_match, cache, config, lightcurves, manifest

    out = run.outdir
    parts, shard_table = out / "manifest/partitions.parquet", out / "manifest/shards.tsv"
    if not (parts.is_file() and shard_table.is_file() and run.meta.get("years")):
        return None
    if not run.meta.get("cuts_query", "").strip():
        return kept.iloc[:0]
    names = pd.read_parquet(parts, columns=["shard"], filters=[("target_id", "==", target_id)])
    shards = {s.shard: s for s in manifest.read_shards(shard_table)}
    radius = manifest.radius_tag(float(run.meta["radius_arcsec"]))
    paths, sides = [], {}
    for year in run.meta["years"].split(","):
        for name in sorted(set(names["shard"])):
            if name not in shards:
                return None
            try:
                path = Path(cache.match_path(out, radius, shards[name], year))
            except ValueError:  # a MEP year without its cache key: another run's manifest
                return None
            if not path.is_file():
                return None
            paths.append(str(path))
            side = sorted(path.parent.glob(path.stem + "+*.parquet"))
            if side:
                sides[str(path)] = str(side[0])
    if not paths:
        return kept.iloc[:0]
    gap_days = config.defaults()["binning"]["gap_days"]
    try:
        matches = lightcurves.read_matches(paths, [target_id], sides)
        matches = allwise_match.drop_repeated_exposures(matches)  # as the light-curve jobs do
        every = lightcurves.build_lightcurves(matches, [target_id], "", gap_days=gap_days)
    except (ValueError, KeyError):
        return None
    every = every.to_pandas()
    removed = every[~every["cntr"].isin(kept["cntr"])]
    return removed.sort_values("mjd", ignore_index=True)
