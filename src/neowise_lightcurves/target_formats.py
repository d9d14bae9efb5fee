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
#: prefix); that serialization; and the others, whose rows cannot be counted without decoding.
_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"
_VOTABLE_ROW = re.compile(_PREFIX + rb"TR[\s>]")
_VOTABLE_TABLEDATA = re.compile(_PREFIX + rb"TABLEDATA[\s>]")
_VOTABLE_OTHER = re.compile(_PREFIX + rb"(?:BINARY2?|FITS|PARQUET)[\s>]")
#: How a file starts when astropy would decompress it whatever its name (gzip, bzip2, xz) or
#: decode it from UTF-16 or UTF-32 (a byte-order mark): its bytes are not its text's lines.
_NOT_PLAIN_TEXT = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def count_rows(path: str, limit: int) -> int | None:
    """How many rows the targets file ``path`` holds, counted no further than ``limit + 1`` (a
    file with more rows says ``limit + 1``), without reading it as a table: cheap enough for
    every start of Snakemake (``one_job: auto``, :func:`neowise_lightcurves.config.one_job`).

    - Parquet: the row count in its footer.
    - FITS: ``NAXIS2`` of its first table extension (the one
      :func:`~neowise_lightcurves.targets.read_table` reads).
    - CSV: the lines that are not blank, less the line of column names (astropy's CSV reader
      skips blank lines and nothing else; any line ending, ``\\n``, ``\\r\\n`` or ``\\r``). A
      quoted field that spans lines counts once per line: the count can come out higher than
      the table's rows, not lower.
    - ECSV: the same, less its ``#`` lines (its header).
    - VOTable in its TABLEDATA serialization: its ``<TR>`` elements (every table's: not lower
      either).

    Returns None where this cannot be told, so: a file that cannot be opened or parsed so, a
    text file compressed (gzip, bzip2, xz: astropy decompresses them whatever their name) or
    in UTF-16 or UTF-32, a VOTable in another serialization, a FITS file without a table
    extension, an unknown extension. Nothing here raises for a bad file:
    :func:`~neowise_lightcurves.targets.read_table` is what reports it.
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
        with open(path, "rb") as fh:
            if fh.read(6).startswith(_NOT_PLAIN_TEXT):
                return None
        if fmt == "votable":
            return _votable_rows(path, cap)
        return _text_rows(path, cap, comments=fmt == "ascii.ecsv")
    except Exception:  # unreadable here: read_table names the problem when the targets rule runs
        return None


def _text_rows(path: str, cap: int, comments: bool) -> int:
    """CSV/ECSV data lines (:func:`count_rows`; ``comments``: not ``#`` lines), at most
    ``cap``. Lines as Python's universal newlines split them, and each of those as
    ``str.splitlines`` does (astropy's pure-Python reader's split)."""
    lines = 0
    with open(path, encoding="utf-8", errors="replace", newline=None) as fh:
        for line in fh:
            for part in line.splitlines():
                text = part.strip()
                if text and not (comments and text.startswith("#")):
                    lines += 1
            if lines > cap:  # the names' line and cap rows: more than cap - 1 rows, enough
                break
    return min(max(lines - 1, 0), cap)


def _fits_rows(path: str, cap: int) -> int | None:
    """NAXIS2 of the first table extension of a FITS file (read header by header); None
    without one, or with random groups in its primary HDU (a table to astropy)."""
    from astropy.io import fits

    with fits.open(path, lazy_load_hdus=True) as hdus:
        if isinstance(hdus[0], fits.GroupsHDU):
            return None
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
    """A VOTable's ``<TR>`` elements, read a chunk at a time until more than ``cap``; None
    unless it holds a TABLEDATA serialization and no other."""
    rows, tail, tabledata = 0, b"", False
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            text = tail + block
            if _VOTABLE_OTHER.search(text):
                return None
            tabledata = tabledata or bool(_VOTABLE_TABLEDATA.search(text))
            # the tag the chunk may have cut (from its last "<") waits for the next chunk
            cut = text.rfind(b"<")
            if cut < 0 or cut < len(text) - 4096:  # none, or no tag is that long: none was cut
                cut = len(text)
            rows += sum(1 for m in _VOTABLE_ROW.finditer(text, 0, cut))
            tail = text[cut:]
            if tabledata and rows > cap:
                return cap
    rows += len(_VOTABLE_ROW.findall(tail))
    return min(rows, cap) if tabledata else None
