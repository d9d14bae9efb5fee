"""Per-target light-curve files, raw and binned, in the formats astronomers read, each carrying
its provenance (catalogue root, years, radius, cuts, package version, date) in its metadata.

A group's files go into one folder (``per_target/{group}/``), or, where they would be more than
:data:`MAX_FOLDER_ENTRIES`, into sub-folders named by the first two hex digits of the SHA-1 of
the target id; an index (:data:`INDEX_NAME`: ``target_id, kind, format, path``) says which file
holds which target."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .atomic import atomic_path
from .filenames import safe_filename

#: Output format -> (file extension, astropy format).
FORMATS = {
    "parquet": (".parquet", "parquet"),
    "ecsv": (".ecsv", "ascii.ecsv"),
    "fits": (".fits", "fits"),
    "csv": (".csv", "ascii.csv"),
}

#: Most files a folder of per-target files holds before they go into sub-folders.
MAX_FOLDER_ENTRIES = 10_000
#: The index of a folder of per-target files.
INDEX_NAME = "index.parquet"
INDEX_COLUMNS = ("target_id", "kind", "format", "path")

UNITS = {
    "ra": "deg",
    "dec": "deg",
    "mjd": "d",
    "dist_arcsec": "arcsec",
    "w1flux": "DN",
    "w1sigflux": "DN",
    "w2flux": "DN",
    "w2sigflux": "DN",
    "w1flux_mjy": "mJy",
    "w1sigflux_mjy": "mJy",
    "w2flux_mjy": "mJy",
    "w2sigflux_mjy": "mJy",
    "w1zp": "mag",
    "w2zp": "mag",
    "w1mpro": "mag",
    "w1sigmpro": "mag",
    "w2mpro": "mag",
    "w2sigmpro": "mag",
    "w1_flux": "DN",
    "w1_flux_err": "DN",
    "w2_flux": "DN",
    "w2_flux_err": "DN",
    "w1_flux_mjy": "mJy",
    "w1_flux_err_mjy": "mJy",
    "w2_flux_mjy": "mJy",
    "w2_flux_err_mjy": "mJy",
    "w1_mag": "mag",
    "w1_mag_err": "mag",
    "w2_mag": "mag",
    "w2_mag_err": "mag",
    "w1_mjd": "d",
    "w2_mjd": "d",
    "mjd_min": "d",
    "mjd_max": "d",
    "pos_scatter_arcsec": "arcsec",
}


def provenance(
    root: str, years: list[str], radius_arcsec: float, cuts: str, cuts_query: str
) -> dict:
    """The metadata every output carries."""
    return {
        "catalog_root": str(root),
        "years": ",".join(map(str, years)),
        "radius_arcsec": str(float(radius_arcsec)),
        "cuts": str(cuts),
        "cuts_query": str(cuts_query),
        "package": f"neowise-lightcurves {__version__}",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def to_table(frame: pd.DataFrame, meta: dict):
    """An astropy Table with units and ``meta`` (FITS-safe: upper-case keys of <= 8 chars go to
    the header as HIERARCH otherwise, which astropy handles)."""
    from astropy.table import Table

    table = Table.from_pandas(frame.reset_index(drop=True))
    for name, unit in UNITS.items():
        if name in table.colnames:
            table[name].unit = unit
    table.meta.update(meta)
    return table


def header_text(value, ascii_only: bool = False) -> str:
    """A metadata value as header text: as it is where every character is printable (and ASCII,
    for FITS headers), else with backslash escapes (``\\n``, ``\\t``, ``\\u00e9``, ``\\\\``):
    a line break must not end a header line. The table's columns keep values exactly."""
    text = str(value)
    if all(c.isprintable() and (c.isascii() or not ascii_only) for c in text):
        return text
    keep = (lambda c: c.isprintable() and c.isascii()) if ascii_only else str.isprintable
    return "".join(
        c if keep(c) and c != "\\" else c.encode("unicode_escape").decode("ascii") for c in text
    )


def write_table(table, path: Path, fmt: str) -> None:
    """Write one table atomically in ``fmt`` (a key of :data:`FORMATS`). Strings are UTF-8 in
    every format (FITS: UTF-8 bytes); metadata values are :func:`header_text`."""
    import warnings

    from astropy.io.fits.verify import VerifyWarning
    from astropy.utils.exceptions import AstropyUserWarning

    _, astropy_format = FORMATS[fmt]
    kwargs = {}
    table = table.copy(copy_data=False)
    table.meta = {k: header_text(v, ascii_only=fmt == "fits") for k, v in table.meta.items()}
    if fmt == "fits":  # FITS text is bytes: UTF-8, which astropy decodes when reading
        for name in table.colnames:
            if table[name].dtype.kind in "UO":
                table[name] = np.char.encode(np.asarray(table[name], dtype=str), "utf-8")
    if fmt == "csv":  # CSV has no metadata: the provenance goes in comment lines
        table.meta = {"comments": [f"{k}: {v}" for k, v in table.meta.items()]}
        kwargs["comment"] = "# "
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # HIERARCH cards for long keys
        warnings.simplefilter("ignore", AstropyUserWarning)  # FITS has no unit "DN"
        table.write(tmp, format=astropy_format, overwrite=True, **kwargs)


def needs_subfolders(n_targets: int, formats) -> bool:
    """Whether the raw and binned files of ``n_targets`` targets in ``formats`` are too many
    for one folder (:data:`MAX_FOLDER_ENTRIES`)."""
    return 2 * len(formats) * n_targets > MAX_FOLDER_ENTRIES


def relative_stem(target_id: str, subfolders: bool) -> str:
    """A target's file name without ``.{kind}.{ext}``: ``NAME``, or ``hh/NAME`` in sub-folders."""
    name = safe_filename(target_id)
    if not subfolders:
        return name
    return f"{hashlib.sha1(str(target_id).encode()).hexdigest()[:2]}/{name}"


def empty_index() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=str) for c in INDEX_COLUMNS})


def _write_parquet_slices(table, folder: Path, kind: str, meta: dict, subfolders: bool) -> list:
    """One Parquet file per target straight from Arrow (zero-copy slices): ~1 ms a file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    fields = [
        f.with_metadata({"unit": UNITS[f.name]}) if f.name in UNITS else f for f in table.schema
    ]
    table = table.cast(pa.schema(fields))
    ids = table["target_id"].to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(ids)]
    written = []
    for a, b in zip(starts, ends, strict=True):
        tid = str(ids[a])
        piece = table.slice(a, b - a).replace_schema_metadata({**meta, "target_id": tid})
        relative = f"{relative_stem(tid, subfolders)}.{kind}.parquet"
        with atomic_path(folder / relative) as tmp:
            pq.write_table(piece, tmp)
        written.append((tid, kind, "parquet", relative))
    return written


def write_target_files(
    lightcurves,
    binned: pd.DataFrame,
    folder: str | Path,
    formats: list[str],
    meta: dict,
    subfolders: bool = False,
) -> pd.DataFrame:
    """``{folder}/{target}.raw.{ext}`` and ``{folder}/{target}.binned.{ext}`` for every target
    with detections, in every format (``subfolders``: under ``{folder}/{hh}/``, see
    :func:`relative_stem`). Both tables (``lightcurves`` Arrow or pandas) must be sorted by
    target (as the workflow writes them). Returns the index of what was written:
    ``target_id, kind, format, path`` (relative to ``folder``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    frames = {"raw": lightcurves, "binned": binned.reset_index(drop=True)}
    if "parquet" in formats:
        for kind, frame in frames.items():
            written += _write_parquet_slices(frame, folder, kind, meta, subfolders)
    others = [f for f in formats if f != "parquet"]
    if others:
        for kind, frame in frames.items():
            if not isinstance(frame, pd.DataFrame):
                frame = frame.to_pandas()
            for tid, part in frame.groupby("target_id", sort=False):
                table = to_table(part, {**meta, "target_id": str(tid)})
                for fmt in others:
                    relative = f"{relative_stem(tid, subfolders)}.{kind}{FORMATS[fmt][0]}"
                    write_table(table, folder / relative, fmt)
                    written.append((str(tid), kind, fmt, relative))
    if not written:
        return empty_index()
    return pd.DataFrame(written, columns=list(INDEX_COLUMNS))
