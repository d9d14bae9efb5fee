"""The run's outputs across groups of targets: where each group's files go, gathering per-group
pieces into one file, removing the files of groups the manifest no longer has, and reading a few
targets' rows back without scanning everything (:func:`read_lightcurves`).

Layout under ``outdir``: ``lightcurves.parquet/`` and ``binned.parquet/`` are Parquet datasets of
one file per group (``{group}.parquet``, sorted by target), which ``pandas.read_parquet`` and
``pyarrow.dataset`` read as one table; ``summary.parquet`` is one file, one row per target, its
``group`` column naming the file that holds the target's rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_path

LIGHTCURVES = "lightcurves.parquet"
BINNED = "binned.parquet"
SUMMARY = "summary.parquet"
#: Where the light-curve jobs put their summary rows before they are gathered.
SUMMARY_PIECES = "group_summaries"
PER_TARGET = "per_target"
#: Folders holding one entry per group.
GROUP_FOLDERS = (LIGHTCURVES, BINNED, SUMMARY_PIECES)


def group_file(outdir: str | os.PathLike, kind: str, group: str) -> Path:
    """``{outdir}/{kind}/{group}.parquet`` (``kind``: :data:`LIGHTCURVES`, :data:`BINNED` or
    :data:`SUMMARY_PIECES`)."""
    return Path(outdir) / kind / f"{group}.parquet"


def write_stream(
    tables: Iterable[pa.Table], out: str | os.PathLike, empty: pa.Table | None = None
) -> int:
    """Write ``tables`` one after another into the Parquet file ``out`` (atomically), each cast
    to the first one's schema, so that memory holds one at a time; ``empty`` is written if none
    comes (without it, that is an error). Returns the rows written."""
    n = 0
    writer = None
    with atomic_path(out) as tmp:
        try:
            for table in tables:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
                n += table.num_rows
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            if empty is None:
                raise ValueError(f"nothing to gather into {out}")
            pq.write_table(empty, tmp)
    return n


def concat_parquet(paths: Iterable[str | os.PathLike], out: str | os.PathLike) -> int:
    """The Parquet files ``paths`` one after another in ``out`` (:func:`write_stream`)."""
    return write_stream((pq.read_table(p) for p in paths), out)


def remove_stale(folder: str | os.PathLike, keep: Iterable[str]) -> list[Path]:
    """Remove the entries ``{folder}/{group}.parquet`` (files) and ``{folder}/{group}``
    (folders) of groups not in ``keep``: outputs of an earlier manifest, which a reader of the
    folder would otherwise take for current. Hidden and ``_``-prefixed entries, and names that
    are no HEALPix pixel (``k{order}_{pixel}``), are left alone. Returns what was removed."""
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return []
    keep = set(keep)
    removed = []
    for entry in folder.iterdir():
        if entry.name.startswith((".", "_")):
            continue
        name = entry.name.removesuffix(".parquet") if entry.is_file() else entry.name
        if name in keep or not re.fullmatch(r"k[0-5]_[0-9]+", name):
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed.append(entry)
    return removed


def remove_stale_groups(
    outdir: str | os.PathLike, groups: Iterable[str], per_target: bool
) -> list[Path]:
    """:func:`remove_stale` in every folder of group files under ``outdir`` (and in
    ``per_target/`` with ``per_target``): what an earlier manifest's groups left."""
    groups = set(groups)
    folders = [*GROUP_FOLDERS, PER_TARGET] if per_target else GROUP_FOLDERS
    return [p for kind in folders for p in remove_stale(Path(outdir) / kind, groups)]


def gather_target_index(folders: dict[str, str | os.PathLike], out: str | os.PathLike) -> int:
    """One index of every group's per-target files (``{folder}/index.parquet`` of each group),
    with paths relative to the folder of ``out``: ``target_id, kind, format, path``."""
    from .target_files import INDEX_NAME, empty_index

    def indexes():
        for group, folder in folders.items():
            table = pq.read_table(Path(folder) / INDEX_NAME)
            paths = pa.array([f"{group}/{p}" for p in table["path"].to_pylist()], pa.string())
            yield table.set_column(table.schema.get_field_index("path"), "path", paths)

    empty = pa.Table.from_pandas(empty_index(), preserve_index=False)
    return write_stream(indexes(), out, empty)


def _among(column: str, values: list[str]):
    """A Parquet row filter: ``column`` is one of the strings ``values`` (none: no row)."""
    import pyarrow.compute as pc

    return pc.field(column).isin(pa.array(values, pa.string()))


def schema_provenance(schema) -> dict[str, str]:
    """The run's provenance an output's Arrow ``schema`` carries in its metadata
    (:func:`neowise_lightcurves.target_files.provenance`), pandas' own entry left out."""
    return {
        k.decode(): v.decode()
        for k, v in (schema.metadata or {}).items()
        if not k.startswith(b"pandas")
    }


def read_lightcurves(
    outdir: str | os.PathLike,
    target_ids: Iterable[str] | str | None = None,
    *,
    binned: bool = False,
    astropy: bool = False,
    groups: dict[str, str] | None = None,
):
    """Light curves (or binned epochs) of a run, for every target or only for ``target_ids``.

    With ``target_ids``, the summary says which group's file holds each target, and only those
    files' row groups that can hold the targets are read.

    Parameters
    ----------
    outdir : path
        The run's ``outdir``.
    target_ids : str or iterable of str, optional
        The targets wanted (default: all).
    binned : bool
        Read ``binned.parquet`` (one row per target and epoch) instead of the single exposures.
    astropy : bool
        Return an ``astropy.table.Table`` with units and the run's provenance in ``meta``
        instead of a ``pandas.DataFrame``.
    groups : dict, optional
        Each of ``target_ids``' group (the summary's ``group`` column), where the caller holds
        the summary already (the explorer): the summary is then not read, and an id not in
        ``groups`` raises the same ``KeyError``.

    Returns
    -------
    pandas.DataFrame or astropy.table.Table
        With ``target_ids``, sorted by target, then time (epoch); a target without detections
        has no rows.

    Raises
    ------
    KeyError
        A target id is not in the run's summary.
    """
    outdir = Path(outdir)
    folder = outdir / (BINNED if binned else LIGHTCURVES)
    if target_ids is None:
        table = pq.read_table(folder)
    else:
        ids = [target_ids] if isinstance(target_ids, str) else [str(t) for t in target_ids]
        if groups is None:
            where = pq.read_table(
                outdir / SUMMARY, columns=["target_id", "group"], filters=_among("target_id", ids)
            ).to_pandas()
        else:
            import pandas as pd

            known = [t for t in dict.fromkeys(ids) if t in groups]
            where = pd.DataFrame({"target_id": known, "group": [groups[t] for t in known]})
        unknown = sorted(set(ids) - set(where["target_id"]))
        if unknown:
            raise KeyError(
                f"{len(unknown)} target id(s) not in {outdir / SUMMARY}: {', '.join(unknown[:5])}"
            )
        pieces = [
            pq.read_table(
                folder / f"{group}.parquet",
                filters=_among("target_id", mine["target_id"].tolist()),
            )
            for group, mine in where.groupby("group", sort=True)
        ]
        if not pieces:  # no target wanted: no rows, with the columns
            import pyarrow.dataset as pads

            pieces = [pads.dataset(folder, format="parquet").schema.empty_table()]
        table = pa.concat_tables(pieces, promote_options="permissive")
        keys = ["target_id", "epoch"] if binned else ["target_id", "mjd", "cntr"]
        table = table.sort_by([(k, "ascending") for k in keys])
    meta = schema_provenance(table.schema)
    frame = table.to_pandas()
    if not astropy:
        return frame
    from .target_files import to_table

    return to_table(frame, meta)
