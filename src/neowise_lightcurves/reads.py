"""What the match jobs read from the catalogue: listings, files, row groups read and skipped,
bytes and requests, per job and summed over a run.

A match job keeps its :class:`ReadRecord` in its cache file's Parquet metadata (key
:data:`METADATA_KEY`), so the record travels with the file it describes; the ``costs`` rule
sums the records of every cache file a run uses (:func:`run_reads`).

Bytes and requests are those a match job asks the storage for, computed from the files'
footers: the tail read that finds the footer (:func:`read_footer`; a second read when the
footer is larger), then the column chunks of the row groups and columns read, nearby ranges
merged (:func:`coalesce`, as :mod:`neowise_lightcurves.ranged` fetches them), plus one size
lookup per file opened, two lookups for the year's folder and one listing per partition. On
an object store each is one HTTP request (``tests/test_s3.py`` checks them against a counting
proxy); on a local disk they are reads.
The *floor* is what reading only ``ra`` and ``dec`` of every row group of the same files costs:
the least any method that must look at every position pays.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

#: The Parquet metadata key of a cache file's record.
METADATA_KEY = b"neowise_lightcurves.reads"
#: The first read of a Parquet file's tail (:func:`read_footer`): the footer, when it fits.
#: pyarrow's own is 64 KiB, which a footer of 143 columns x 15 row groups (~300 KB) overflows,
#: costing a second round trip; one more MiB is ~10 ms at S3's 100 MB/s per connection.
FOOTER_READ_BYTES = 1 << 20
#: ... but at most this share of a small file (the demo's are ~0.6 MB), at least 64 KiB.
FOOTER_READ_SHARE = 1 / 16


def first_read_bytes(file_size: int) -> int:
    """Bytes of :func:`read_footer`'s first read of a file of ``file_size`` bytes."""
    share = max(64 * 1024, int(file_size * FOOTER_READ_SHARE))
    return min(file_size, FOOTER_READ_BYTES, share)


#: Column-chunk ranges closer than this are fetched as one (bytes; pyarrow's own default).
HOLE_SIZE_LIMIT = pa.CacheOptions().hole_size_limit
#: ... unless the merged range would exceed this (bytes; pyarrow's default, 32 MiB: a
#: connection's ~0.3 s at S3's 100 MB/s).
RANGE_SIZE_LIMIT = pa.CacheOptions().range_size_limit
#: Requests that check a year's folder exists (a key lookup, then a listing).
YEAR_LOOKUP_REQUESTS = 2


@dataclasses.dataclass
class ReadRecord:
    """Counts of what was read (sums over files; bytes in bytes)."""

    #: partition folders listed (one listing each)
    listings: int = 0
    #: data files opened
    files: int = 0
    #: row groups in the opened files
    row_groups: int = 0
    #: row groups skipped unread: their ``ra``/``dec`` statistics exclude every cone
    row_groups_skipped: int = 0
    #: row groups whose other columns were read (they hold a match, or were read in one pass)
    row_groups_second_pass: int = 0
    #: files whose candidate row groups were read in one pass (every column at once)
    files_one_pass: int = 0
    #: requests to the storage (see the module's description)
    requests: int = 0
    #: bytes asked for: footers, positions, other columns
    bytes: int = 0
    footer_bytes: int = 0
    position_bytes: int = 0
    column_bytes: int = 0
    #: footers plus ``ra`` and ``dec`` of every row group of the opened files
    floor_bytes: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        """Add to the counts (thread-safe)."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + int(value))

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> ReadRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: int(v) for k, v in values.items() if k in names})


def coalesce(
    ranges: Iterable[tuple[int, int]],
    hole_size_limit: int = HOLE_SIZE_LIMIT,
    range_size_limit: int = RANGE_SIZE_LIMIT,
) -> list[tuple[int, int]]:
    """Merge (offset, length) byte ranges as pyarrow's read cache does: sorted, a range joins
    the previous one when the gap between them is at most ``hole_size_limit`` and the merged
    range stays within ``range_size_limit``."""
    out: list[list[int]] = []
    for start, length in sorted(r for r in ranges if r[1] > 0):
        if out:
            first, end = out[-1][0], out[-1][0] + out[-1][1]
            if start <= end or (
                start - end <= hole_size_limit and start + length - first <= range_size_limit
            ):
                out[-1][1] = max(end, start + length) - first
                continue
        out.append([start, length])
    return [(a, b) for a, b in out]


def column_chunk_range(rg: pq.RowGroupMetaData, column: int, file_size: int) -> tuple[int, int]:
    """(offset, length) in bytes of one column chunk, dictionary page included."""
    chunk = rg.column(column)
    start = chunk.data_page_offset
    dictionary = chunk.dictionary_page_offset
    if chunk.has_dictionary_page and dictionary is not None and 0 < dictionary < start:
        start = dictionary
    return start, min(chunk.total_compressed_size, file_size - start)


def column_indices(meta: pq.FileMetaData, names: Iterable[str]) -> list[int]:
    """Parquet column indices of the (top-level, flat) columns ``names``."""
    where = {meta.schema.column(i).path: i for i in range(meta.num_columns)}
    return [where[n] for n in names]


def read_footer(
    source: pa.NativeFile, file_size: int, tail_bytes: int | None = None
) -> pq.FileMetaData:
    """A Parquet file's footer, in one read of its last ``tail_bytes`` when it fits there and
    otherwise in one more read of the rest (:func:`footer_cost` counts them).

    Parameters
    ----------
    source : pyarrow.NativeFile
        The file, opened for random access.
    file_size : int
        Its size in bytes.
    tail_bytes : int, optional
        Bytes of the first read (default: :func:`first_read_bytes` of the size).
    """
    first = min(file_size, tail_bytes or first_read_bytes(file_size))
    tail = source.read_at(first, file_size - first)
    if len(tail) < 8 or tail[-4:] != b"PAR1":
        raise OSError(f"not a Parquet file (no PAR1 at its end, {file_size} bytes)")
    length = int.from_bytes(tail[-8:-4], "little")
    if length + 8 > file_size:
        raise OSError(f"corrupt Parquet footer: {length} bytes in a {file_size}-byte file")
    if length + 8 > len(tail):
        rest = length + 8 - len(tail)
        tail = source.read_at(rest, file_size - len(tail) - rest) + tail
    return pq.read_metadata(pa.BufferReader(tail[len(tail) - length - 8 :]))


def open_parquet(filesystem, path: str) -> tuple[pa.NativeFile, pq.FileMetaData]:
    """Open a Parquet file for reading: its size (one lookup), then :func:`read_footer`.
    Returns the open file and its footer (give it to ``pyarrow.parquet.ParquetFile(...,
    metadata=...)``, which then reads no footer again)."""
    source = filesystem.open_input_file(path)
    return source, read_footer(source, source.size())


def footer_cost(file_size: int, metadata_bytes: int) -> tuple[int, int]:
    """(requests, bytes) of opening a Parquet file with :func:`read_footer`: its size, the
    tail read and, when the footer (``metadata_bytes``) does not fit in that read, a read of
    the rest of it."""
    first = first_read_bytes(file_size)
    if metadata_bytes + 8 <= first:
        return 2, first
    return 3, metadata_bytes + 8


def read_cost(
    meta: pq.FileMetaData, row_groups: list[int], columns: list[int], file_size: int
) -> tuple[int, int]:
    """(requests, bytes) of reading ``columns`` of ``row_groups`` at once
    (:func:`neowise_lightcurves.ranged.read_row_groups`)."""
    ranges = [
        column_chunk_range(meta.row_group(g), c, file_size) for g in row_groups for c in columns
    ]
    merged = coalesce(ranges)
    return len(merged), sum(length for _, length in merged)


def open_cost(meta: pq.FileMetaData, file_size: int, row_groups_read: int) -> ReadRecord:
    """What opening one file costs (:func:`footer_cost`), with its row groups, those skipped
    (all but ``row_groups_read``) and its floor; its column reads are added as they happen."""
    requests, nbytes = footer_cost(file_size, meta.serialized_size)
    positions = column_indices(meta, ("ra", "dec"))
    floor = read_cost(meta, list(range(meta.num_row_groups)), positions, file_size)[1]
    return ReadRecord(
        files=1,
        row_groups=meta.num_row_groups,
        row_groups_skipped=meta.num_row_groups - row_groups_read,
        requests=requests,
        bytes=nbytes,
        footer_bytes=nbytes,
        floor_bytes=nbytes + floor,
    )


def write_record(table: pa.Table, record: ReadRecord) -> pa.Table:
    """``table`` with ``record`` in its schema metadata."""
    metadata = dict(table.schema.metadata or {})
    metadata[METADATA_KEY] = json.dumps(record.to_dict()).encode()
    return table.replace_schema_metadata(metadata)


def read_record(path: str | os.PathLike) -> ReadRecord | None:
    """The record in a cache file's metadata (None for a file written without one)."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(METADATA_KEY)
    return None if raw is None else ReadRecord.from_dict(json.loads(raw))


def run_reads(paths_by_year: dict[str, list[str]]) -> tuple[dict, dict[str, dict]]:
    """Sum the records of a run's cache files, per year and in all.

    Returns
    -------
    total : dict
        :class:`ReadRecord`'s counts summed, plus ``jobs`` (cache files with a record),
        ``jobs_without_record`` and ``amplification`` (bytes over the floor's bytes).
    per_year : dict
        The same per year.
    """

    def summed(records: list[ReadRecord | None]) -> dict:
        out = ReadRecord()
        for record in records:
            if record is not None:
                out.add(**record.to_dict())
        values = out.to_dict()
        values["jobs"] = sum(r is not None for r in records)
        values["jobs_without_record"] = sum(r is None for r in records)
        values["amplification"] = round(out.bytes / out.floor_bytes, 3) if out.floor_bytes else None
        return values

    records = {year: [read_record(p) for p in paths] for year, paths in paths_by_year.items()}
    per_year = {year: summed(found) for year, found in records.items()}
    total = summed([r for found in records.values() for r in found])
    return total, per_year


def write_run_reads(
    total: dict,
    per_year: dict[str, dict],
    json_path: str | os.PathLike,
    tsv_path: str | os.PathLike,
) -> None:
    """Write :func:`run_reads`'s sums: ``{"total": ..., "per_year": ...}`` as JSON, and a table
    of one row per year and one for ``all``."""
    import pandas as pd

    from .atomic import atomic_path

    with atomic_path(json_path) as tmp:
        with open(tmp, "w") as fh:
            json.dump({"total": total, "per_year": per_year}, fh, indent=1)
    rows = pd.DataFrame([{"year": y, **v} for y, v in {**per_year, "all": total}.items()])
    with atomic_path(tsv_path) as tmp:
        rows.to_csv(tmp, sep="\t", index=False)
