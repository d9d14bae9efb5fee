"""Reading parts of a Parquet file over a high-latency store: the byte ranges of the column
chunks a read needs, coalesced (:func:`neowise_lightcurves.parquet.coalesce`) and fetched all at
once in threads, then decoded by pyarrow from memory.

Measured on a latency-shaped S3 server (``benchmarks/object_store.py``): with pyarrow's own
pre-buffering (``ParquetFile(pre_buffer=True)``) the ranges of a read came in about one at a
time on 2 cores, so 755 requests at 20 ms each added ~13 s to a 100-target ``fetch()`` (5.7 s
without latency, 32 s with); reading the same ranges this way took 5.3 s. Here every range of
a read is requested before any is decoded, :data:`FETCH_THREADS` at a time, and the requests
are exactly those :func:`neowise_lightcurves.parquet.read_cost` counts.
"""

from __future__ import annotations

import bisect
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq

from . import parquet, reads

#: Requests one process has in flight at once (S3 gives ~100 MB/s per connection). 32: at the
#: notebook's density on 100,000-row groups (1,647 requests for 24 targets) 16 left fetch()
#: waiting on round trips, 11.6 s at 80 ms against 8.5 s with 32 (7.5 / 6.9 s at 20 ms);
#: 48 gained nothing (benchmarks/README.md, "More requests in flight").
FETCH_THREADS = 32
#: Connections one pyarrow S3 client keeps at most (Arrow's S3 filesystem: the larger of its
#: IO threads, 8, and 25): a match job's catalogue has one client, so at most this many of
#: its :data:`FETCH_THREADS` requests are on the wire at once (a run in one job opens a
#: catalogue, and a client, per year).
S3_CONNECTIONS = 25

_pool: ThreadPoolExecutor | None = None


def _fetch_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="fetch")
    return _pool


class RangeFile(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only some ranges are held in memory.

    pyarrow reads it through :class:`pyarrow.PythonFile`; a read outside the held ranges is
    read from ``source`` (the file itself) and counted in :attr:`missed` (requests, bytes),
    so that nothing is lost and nothing goes unrecorded. The position is kept per thread:
    pyarrow finds the size by seeking to the end and back outside the lock its positioned
    reads take, so a shared position could be moved by another thread in between.
    """

    def __init__(self, source: pa.NativeFile, size: int, held: dict[int, bytes]):
        super().__init__()
        self.source, self.size = source, size
        self.starts = sorted(held)
        self.held = held
        self._where = threading.local()
        self._lock = threading.Lock()
        self.missed = [0, 0]

    @property
    def position(self) -> int:
        return getattr(self._where, "position", 0)

    @position.setter
    def position(self, value: int) -> None:
        self._where.position = value

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, n: int = -1):
        start = self.position
        n = self.size - start if n is None or n < 0 else min(n, self.size - start)
        i = bisect.bisect_right(self.starts, start) - 1
        if i >= 0:
            first = self.starts[i]
            data = self.held[first]
            if start + n <= first + len(data):
                self.position += n
                return memoryview(data)[start - first : start - first + n]
        with self._lock:
            self.missed[0] += 1
            self.missed[1] += n
        self.position += n
        return self.source.read_at(n, start)


def fetch(source: pa.NativeFile, ranges: list[tuple[int, int]]) -> dict[int, bytes]:
    """The bytes of each (offset, length) range of ``source``, fetched concurrently."""
    pool = _fetch_pool()
    datas = list(pool.map(lambda r: source.read_at(r[1], r[0]), ranges))
    return {start: data for (start, _), data in zip(ranges, datas, strict=True)}


def read_row_groups(
    source: pa.NativeFile,
    meta: pq.FileMetaData,
    row_groups: list[int],
    columns: list[str],
    record: reads.ReadRecord | None = None,
    kind: str = "column_bytes",
    dictionary: list[str] | tuple[str, ...] = (),
) -> pa.Table:
    """``columns`` of ``row_groups`` of the Parquet file ``source`` (its footer ``meta``): the
    coalesced column-chunk ranges fetched at once (:func:`fetch`), then decoded.

    ``record``, when given, is added the requests and bytes, the bytes also under ``kind``
    (``"position_bytes"`` or ``"column_bytes"``). The columns of ``dictionary`` are decoded as
    dictionaries (pyarrow's ``read_dictionary``; see
    :func:`~neowise_lightcurves.parquet.dictionary_columns`).
    """
    size = source.size()
    indices = parquet.column_indices(meta, columns)
    ranges = parquet.coalesce(
        parquet.column_chunk_range(meta.row_group(g), c, size) for g in row_groups for c in indices
    )
    held = fetch(source, ranges)
    view = RangeFile(source, size, held)
    table = pq.ParquetFile(
        pa.PythonFile(view, mode="r"), metadata=meta, read_dictionary=list(dictionary) or None
    ).read_row_groups(row_groups, columns=columns)
    if record is not None:
        requests = len(ranges) + view.missed[0]
        nbytes = sum(length for _, length in ranges) + view.missed[1]
        record.add(requests=requests, bytes=nbytes, **{kind: nbytes})
    return table
