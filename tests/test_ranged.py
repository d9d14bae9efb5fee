"""Ranged reads: the column chunks a read needs, fetched at once, decode to what pyarrow reads
itself; the requests are exactly the coalesced ranges; a read outside them is still served
and counted."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from neowise_lightcurves import iocount, parquet, ranged, reads


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    n = 20_000
    table = pa.table(
        {
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-90, 90, n),
            "flux": rng.normal(size=n).astype(np.float32),
            "flags": pa.array([f"{i % 7:04d}" for i in range(n)]),
            "cntr": np.arange(n, dtype=np.int64),
        }
    )
    path = tmp_path_factory.mktemp("ranged") / "part0.parquet"
    pq.write_table(table, path, row_group_size=1_500)
    return str(path)


@pytest.mark.parametrize(
    "groups,columns",
    [
        ([0], ["ra", "dec"]),
        ([1, 4, 5, 13], ["flux", "cntr", "flags"]),
        (list(range(14)), ["cntr", "dec"]),
        ([13, 2], ["flags"]),  # any order of row groups and columns
    ],
)
def test_read_row_groups_equals_pyarrow_and_counts_its_requests(parquet_file, groups, columns):
    counter = iocount.ReadCounter()
    fs = iocount.counting_filesystem(pafs.LocalFileSystem(), counter)
    source, meta = parquet.open_parquet(fs, parquet_file)
    opened = counter.reads, counter.bytes
    record = reads.ReadRecord()
    table = ranged.read_row_groups(source, meta, groups, columns, record, "column_bytes")
    assert table.equals(pq.ParquetFile(parquet_file).read_row_groups(groups, columns=columns))
    requests, nbytes = parquet.read_cost(
        meta, groups, parquet.column_indices(meta, columns), source.size()
    )
    assert (record.requests, record.bytes, record.column_bytes) == (requests, nbytes, nbytes)
    assert (counter.reads - opened[0], counter.bytes - opened[1]) == (requests, nbytes)


def test_ranges_are_fetched_concurrently(parquet_file):
    """Every range of a read is in flight before any has come back."""
    src = pafs.LocalFileSystem().open_input_file(parquet_file)
    meta = pq.read_metadata(parquet_file)
    ranges = parquet.coalesce(
        [parquet.column_chunk_range(meta.row_group(g), 0, src.size()) for g in range(8)], 0, 1
    )
    assert len(ranges) == 8
    lock, active, peak = threading.Lock(), [0], [0]

    class Slow:
        def read_at(self, n, offset):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.2)
            with lock:
                active[0] -= 1
            return src.read_at(n, offset)

    t0 = time.perf_counter()
    held = ranged.fetch(Slow(), ranges)
    assert peak[0] == 8 and time.perf_counter() - t0 < 0.2 * 3
    assert all(held[a] == src.read_at(n, a) for a, n in ranges)


def test_a_read_outside_the_held_ranges_is_served_and_counted(parquet_file):
    src = pafs.LocalFileSystem().open_input_file(parquet_file)
    size = src.size()
    view = ranged.RangeFile(src, size, {100: src.read_at(50, 100)})
    view.seek(110)
    assert bytes(view.read(20)) == src.read_at(20, 110) and view.missed == [0, 0]
    view.seek(140)
    assert bytes(view.read(20)) == src.read_at(20, 140)  # runs past the held range
    view.seek(0)
    assert bytes(view.read(10)) == src.read_at(10, 0)
    assert view.missed == [2, 30]
    view.seek(-4, 2)
    assert bytes(view.read()) == b"PAR1"


def test_concurrent_fetch_through_the_counting_filesystem(parquet_file):
    """The benchmarks' counting filesystem (pyarrow reads it through Python: a seek, then a
    read) returns the right bytes to concurrent fetches, and counts them all."""
    counter = iocount.ReadCounter()
    fs = iocount.counting_filesystem(pafs.LocalFileSystem(), counter)
    source = fs.open_input_file(parquet_file)
    data = open(parquet_file, "rb").read()
    rng = np.random.default_rng(0)
    ranges = [(int(a), 65536) for a in rng.integers(0, len(data) - 65536, 400)]
    held = ranged.fetch(source, ranges)
    assert all(bytes(held[a]) == data[a : a + n] for a, n in ranges)
    assert counter.reads == len(ranges) and counter.bytes == 65536 * len(ranges)


def test_size_is_right_while_other_threads_read(parquet_file):
    """pyarrow finds a Python-read file's size by tell, seek to the end, tell, seek back,
    outside the lock its positioned reads take: with positions kept per thread, no read in
    another thread moves them (a shared position once gave a match job a wrong size, hence
    "Invalid column metadata"). Thread switches forced often, to give a race its chance."""
    size = len(open(parquet_file, "rb").read())
    counting = iocount.counting_filesystem(pafs.LocalFileSystem(), iocount.ReadCounter())
    src = pafs.LocalFileSystem().open_input_file(parquet_file)
    view = pa.PythonFile(ranged.RangeFile(src, size, {0: src.read_at(size, 0)}), mode="r")
    for source in (counting.open_input_file(parquet_file), view):
        wrong = []

        def work(i, source=source, wrong=wrong):
            for j in range(600):
                if j % 2:
                    if source.size() != size:
                        wrong.append(j)
                else:
                    source.read_at(4096, (i * 7919 + j * 104729) % (size - 4096))

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(work, range(16)))
        finally:
            sys.setswitchinterval(interval)
        assert wrong == []
