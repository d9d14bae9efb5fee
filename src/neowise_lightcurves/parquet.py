"""Reading Parquet files over a high-latency store: a file's footer, read while the file is
opened (:func:`open_parquet`, :func:`read_footer`), the byte ranges of the column chunks a read
needs (:func:`column_chunk_range`, :func:`column_indices`), merged as pyarrow's read cache merges
them (:func:`coalesce`; :mod:`neowise_lightcurves.ranged` fetches them so), and what opening a
file and reading its column chunks costs in requests and bytes (:func:`footer_cost`,
:func:`read_cost`), which :mod:`neowise_lightcurves.reads` records and
:mod:`neowise_lightcurves.estimates` predicts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq

#: The first read of a Parquet file's tail: pyarrow's Parquet reader's own (its
#: ``footer_read_size``, 64 KiB, not settable from Python), with which :func:`open_parquet`
#: reads a footer; not a knob: :func:`footer_cost` counts pyarrow's reads with it (a test pins
#: the boundary on pyarrow's own reads). A larger footer (143 columns x 3 row groups, ~80 KB)
#: takes a second read of the whole footer.
FOOTER_READ_BYTES = 64 * 1024
#: Files :func:`open_parquet` opens at once in the background (each a size lookup).
OPEN_THREADS = 32

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _open_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=OPEN_THREADS, thread_name_prefix="open")
        return _pool


def first_read_bytes(file_size: int) -> int:
    """Bytes of the first read of a footer (:data:`FOOTER_READ_BYTES`, or the whole of a
    smaller file)."""
    return min(file_size, FOOTER_READ_BYTES)


#: Column-chunk ranges closer than this are fetched as one (bytes; pyarrow's own default).
HOLE_SIZE_LIMIT = pa.CacheOptions().hole_size_limit
#: ... unless the merged range would exceed this (bytes; pyarrow's default, 32 MiB: a
#: connection's ~0.3 s at S3's 100 MB/s).
RANGE_SIZE_LIMIT = pa.CacheOptions().range_size_limit


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


#: Largest dictionary page (bytes as stored) of a string column chunk that
#: :func:`dictionary_columns` has read as a dictionary: a column of few distinct values (flags
#: such as ``cc_flags``, ``ph_qual``) decodes several times faster as a dictionary than as
#: strings, one of many (``source_id``, a dictionary of hundreds of kB) several times slower
#: (benchmarks/README.md, "Flags decoded as dictionaries").
SMALL_DICTIONARY_BYTES = 64 * 1024


def dictionary_columns(
    meta: pq.FileMetaData, row_groups: Iterable[int], names: Iterable[str]
) -> list[str]:
    """The string columns among ``names`` best decoded as dictionaries in ``row_groups``: those
    whose every chunk there has a dictionary page of at most :data:`SMALL_DICTIONARY_BYTES`
    (few distinct values). Read with pyarrow's ``read_dictionary``, which gives the same
    values whatever the chunk holds: a writer that fell back to plain pages (its dictionary
    outgrew its page limit, 1 MiB by default) is decoded right, only more slowly."""
    schema = meta.schema.to_arrow_schema()
    text = (pa.string(), pa.large_string())
    strings = [n for n in names if schema.get_field_index(n) >= 0 and schema.field(n).type in text]
    groups = list(row_groups)

    def small(index: int) -> bool:
        for g in groups:
            chunk = meta.row_group(g).column(index)
            start = chunk.dictionary_page_offset
            if not chunk.has_dictionary_page or start is None or start < 0:
                return False
            if chunk.data_page_offset - start > SMALL_DICTIONARY_BYTES:
                return False
        return True

    return [n for n, i in zip(strings, column_indices(meta, strings), strict=True) if small(i)]


def column_indices(meta: pq.FileMetaData, names: Iterable[str]) -> list[int]:
    """Parquet column indices of the (top-level, flat) columns ``names``."""
    where = {meta.schema.column(i).path: i for i in range(meta.num_columns)}
    return [where[n] for n in names]


def read_footer(source: pa.NativeFile, file_size: int) -> pq.FileMetaData:
    """A Parquet file's footer, read as pyarrow's Parquet reader reads it: the last
    :func:`first_read_bytes`, then, when the footer is larger, the whole footer again
    (:func:`footer_cost` counts them).

    Parameters
    ----------
    source : pyarrow.NativeFile
        The file, opened for random access.
    file_size : int
        Its size in bytes.
    """
    first = first_read_bytes(file_size)
    tail = source.read_at(first, file_size - first)
    if len(tail) < 8 or tail[-4:] != b"PAR1":
        raise OSError(f"not a Parquet file (no PAR1 at its end, {file_size} bytes)")
    length = int.from_bytes(tail[-8:-4], "little")
    if length + 8 > file_size:
        raise OSError(f"corrupt Parquet footer: {length} bytes in a {file_size}-byte file")
    if length + 8 > len(tail):
        tail = source.read_at(length, file_size - length - 8) + tail[-8:]
    return pq.read_metadata(pa.BufferReader(tail[len(tail) - length - 8 :]))


def open_parquet(
    filesystem, path: str, file_size: int | None = None
) -> tuple[pa.NativeFile, pq.FileMetaData]:
    """Open a Parquet file for reading, and read its footer.

    pyarrow opens a file for reading by its path only, and on an object store that costs a
    request for its size (S3: a HEAD) before any read. Where ``file_size`` is known (a listing
    gives it), the footer is read by pyarrow's dataset reader, which is given the size and
    asks for none (:data:`FOOTER_READ_BYTES` of the tail, then the whole of a larger footer),
    while the file is opened in the background: the size lookup is then no longer a round trip
    before the footer. Without ``file_size``: the size, then :func:`read_footer`. Either way
    the same requests (:func:`footer_cost`), except on a filesystem implemented in Python
    (``pyarrow.fs.PyFileSystem``, e.g. :func:`neowise_lightcurves.iocount.counting_filesystem`),
    which pyarrow opens by path even for the footer: there a size lookup each.

    Raises ``OSError`` when the file's size is no longer ``file_size`` (it changed since it
    was listed: its footer and its data would not match).

    Returns the open file and its footer (give it to ``pyarrow.parquet.ParquetFile(...,
    metadata=...)``, which then reads no footer again).
    """
    if file_size is None:
        source = filesystem.open_input_file(path)
        return source, read_footer(source, source.size())
    import pyarrow.dataset as pads

    opening = _open_pool().submit(filesystem.open_input_file, path)
    try:
        fragment = pads.ParquetFileFormat().make_fragment(path, filesystem, file_size=file_size)
        meta = fragment.metadata
    except BaseException:
        opening.cancel()
        if not opening.cancelled() and opening.exception() is None:
            try:
                opening.result().close()
            except Exception:  # the footer's error is the one to tell
                pass
        raise
    source = opening.result()
    if (now := source.size()) != file_size:
        source.close()
        raise OSError(
            f"{path} is {now:,} bytes, not the {file_size:,} it was listed with: "
            "it changed while being read"
        )
    return source, meta


def footer_cost(file_size: int, metadata_bytes: int) -> tuple[int, int]:
    """(requests, bytes) of opening a Parquet file with :func:`open_parquet`: its size, the
    tail read and, when the footer (``metadata_bytes``) does not fit in that read, a read of
    the whole footer."""
    first = first_read_bytes(file_size)
    if metadata_bytes + 8 <= first:
        return 2, first
    return 3, first + metadata_bytes


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
