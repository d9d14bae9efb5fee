"""Target files by format: which format a file's extension names, and how many rows a file holds,
counted without reading it as a table (cheap enough for every start of Snakemake: numpy and
pandas are not imported here)."""

from __future__ import annotations

import re

#: A targets file's extension -> astropy's ``format=`` for it.
_FORMATS = {
    ".csv": "ascii.csv",
    ".ecsv": "ascii.ecsv",
    ".fits": "fits",
    ".fit": "fits",
    ".fits.gz": "fits",
    ".xml": "votable",
    ".vot": "votable",
    ".votable": "votable",
    ".parquet": "parquet",
}


class TargetError(ValueError):
    """A target table that cannot be used; the message names the file, column and rows."""


def table_format(path: str) -> str:
    """astropy ``format=`` for a targets file, chosen by its extension."""
    lower = path.lower()
    for ext in sorted(_FORMATS, key=len, reverse=True):
        if lower.endswith(ext):
            return _FORMATS[ext]
    raise TargetError(
        f"targets file {path!r}: unknown extension; use one of {', '.join(sorted(_FORMATS))}"
    )


#: A VOTable's rows in its TABLEDATA serialization (``<TR>``, with or without a namespace
#: prefix), and the binary serializations, whose rows cannot be counted without decoding them.
_VOTABLE_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?TR[\s>]")
_VOTABLE_BINARY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:BINARY2?|FITS)[\s>]")


def count_rows(path: str, limit: int) -> int | None:
    """How many rows the targets file ``path`` holds, counted no further than ``limit + 1`` (a
    file with more rows says ``limit + 1``), without reading it as a table: cheap enough for
    every start of Snakemake (``one_job: auto``, :func:`neowise_lightcurves.config.one_job`).

    - Parquet: the row count in its footer.
    - FITS: ``NAXIS2`` of its first table extension (the one
      :func:`~neowise_lightcurves.targets.read_table` reads).
    - CSV: the lines that are not blank, less the line of column names (astropy's CSV reader
      skips blank lines and nothing else). A quoted field that spans lines counts once per
      line: the count can come out higher than the table's, never lower.
    - ECSV: the same, less its ``#`` lines (its header).
    - VOTable: its ``<TR>`` elements (every table's: never lower either).

    Returns None where this cannot be told: a file that cannot be opened or parsed so, a
    VOTable in a binary serialization, an unknown extension. Nothing here raises for a bad
    file: :func:`~neowise_lightcurves.targets.read_table` is what reports it.
    """
    try:
        fmt = table_format(path)
    except TargetError:
        return None
    cap = limit + 1
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return min(pq.read_metadata(path).num_rows, cap)
        if fmt == "fits":
            return _fits_rows(path, cap)
        if fmt == "votable":
            return _votable_rows(path, cap)
        return _text_rows(path, cap, comments=fmt == "ascii.ecsv")
    except Exception:  # unreadable here: read_table names the problem when the targets rule runs
        return None


def _text_rows(path: str, cap: int, comments: bool) -> int:
    """CSV/ECSV data lines (:func:`count_rows`; ``comments``: not ``#`` lines), at most
    ``cap``."""
    lines = 0
    with open(path, "rb") as fh:
        for line in fh:
            text = line.strip()
            if text and not (comments and text.startswith(b"#")):
                lines += 1
                if lines > cap:  # the names' line, then more than cap rows
                    break
    return min(max(lines - 1, 0), cap)


def _fits_rows(path: str, cap: int) -> int | None:
    """NAXIS2 of the first table extension of a FITS file (read header by header)."""
    from astropy.io import fits

    with fits.open(path, lazy_load_hdus=True) as hdus:
        i = 1
        while True:
            try:
                hdu = hdus[i]
            except IndexError:
                return None
            if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
                return min(int(hdu.header["NAXIS2"]), cap)
            i += 1


def _votable_rows(path: str, cap: int, chunk: int = 1 << 20) -> int | None:
    """A VOTable's ``<TR>`` elements, read a chunk at a time until more than ``cap``; None for a
    binary serialization."""
    rows, tail = 0, b""
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            text = tail + block
            if _VOTABLE_BINARY.search(text):
                return None
            # a tag that starts in the last 32 bytes is counted with the next chunk, not twice
            keep = max(len(text) - 32, 0)
            rows += sum(1 for m in _VOTABLE_ROW.finditer(text) if m.start() < keep)
            tail = text[keep:]
            if rows > cap:
                return cap
    rows += len(_VOTABLE_ROW.findall(tail))
    return min(rows, cap)
