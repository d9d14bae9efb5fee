"""What the match jobs read: each job's record, computed from the files' footers, equals what
the storage was asked for (here: a filesystem that counts the bytes and reads; on S3, a proxy
counting requests in tests/test_s3.py), and sums over a run."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from neowise_lightcurves import (
    catalog,
    columns,
    demo,
    estimates,
    iocount,
    manifest,
    matching,
    parquet,
    reads,
)


def test_coalesce_merges_as_pyarrow_does():
    hole, limit = 10, 100
    assert parquet.coalesce([(0, 5), (15, 5)], hole, limit) == [(0, 20)]  # gap 10: merged
    assert parquet.coalesce([(0, 5), (16, 5)], hole, limit) == [(0, 5), (16, 5)]  # gap 11
    assert parquet.coalesce([(50, 40), (0, 45)], hole, limit) == [(0, 90)]  # sorted first
    assert parquet.coalesce([(0, 60), (65, 60)], hole, limit) == [(0, 60), (65, 60)]  # > limit
    assert parquet.coalesce([(0, 30), (10, 5), (40, 0)], hole, limit) == [(0, 30)]  # overlaps


def test_footer_cost():
    first = parquet.FOOTER_READ_BYTES  # pyarrow's own first read of a footer, 64 KiB
    assert first == 64 * 1024
    assert parquet.footer_cost(10**8, first - 8) == (2, first)  # the size, the tail
    assert parquet.footer_cost(10**8, first) == (3, 2 * first)  # ... then the whole footer
    assert parquet.footer_cost(1000, 500) == (2, 1000)  # a small file: all of it


@pytest.mark.parametrize("row_group_size", [None, 10])
def test_open_parquet_reads_the_footer_as_pyarrow_and_footer_cost_say(tmp_path, row_group_size):
    """The footer equals pyarrow's own reading of it, given the file's size or not, in the
    reads :func:`footer_cost` counts: one when the tail holds it, two (the tail, then the whole
    footer) when it does not; not Parquet: a clear error."""
    n = 400
    table = pa.table({f"c{i}": np.arange(n, dtype=np.float64) + i for i in range(60)})
    path = str(tmp_path / "t.parquet")
    pq.write_table(table, path, row_group_size=row_group_size)
    expected = pq.read_metadata(path)
    size = os.path.getsize(path)
    footer = expected.serialized_size
    assert (footer + 8 > parquet.FOOTER_READ_BYTES) == (row_group_size is not None)
    requests, nbytes = parquet.footer_cost(size, footer)
    for known in (None, size):
        counter = iocount.ReadCounter()
        fs = iocount.counting_filesystem(pafs.LocalFileSystem(), counter)
        source, meta = parquet.open_parquet(fs, path, known)
        assert meta.equals(expected) and meta.serialized_size == footer
        assert source.size() == size
        # the reads: the footer_cost's requests but the size lookup opening the file makes
        assert (counter.files, counter.reads, counter.bytes) == (
            1,
            requests - 1,
            nbytes,
        )
    not_parquet = tmp_path / "not-parquet.bin"
    not_parquet.write_bytes(b"x" * 100)
    with pytest.raises(OSError, match="not a Parquet file"):
        parquet.open_parquet(pafs.LocalFileSystem(), str(not_parquet))
    with pytest.raises(pa.ArrowInvalid, match="not a parquet file"):
        parquet.open_parquet(pafs.LocalFileSystem(), str(not_parquet), 100)


def _footer_of(path, tail: int, table) -> int:
    """Write ``table`` to ``path`` with its footer padded so that footer + 8 = ``tail`` bytes."""
    pad = 0
    for _ in range(10):
        with pq.ParquetWriter(path, table.schema) as writer:
            writer.write_table(table)
            writer.add_key_value_metadata({"pad": "x" * pad})
        size = pq.read_metadata(path).serialized_size + 8
        if size == tail:
            return size
        pad += tail - size
    raise AssertionError(f"could not pad the footer to {tail} bytes")


@pytest.mark.parametrize("tail", [parquet.FOOTER_READ_BYTES, parquet.FOOTER_READ_BYTES + 1])
def test_footer_cost_is_pyarrows_own_reads_at_the_boundary(tmp_path, tail):
    """pyarrow's own footer reading (given the size: open_parquet's) reads exactly what
    footer_cost counts on either side of its first read's size: one read of a footer that just
    fits, two of one a byte larger. Fails if pyarrow's first read changes size."""
    path = str(tmp_path / "t.parquet")
    table = pa.table({"a": np.arange(10_000, dtype=np.float64)})
    _footer_of(path, tail, table)
    size = os.path.getsize(path)
    counter = iocount.ReadCounter()
    fs = iocount.counting_filesystem(pafs.LocalFileSystem(), counter)
    _, meta = parquet.open_parquet(fs, path, size)
    assert meta.serialized_size + 8 == tail
    requests, nbytes = parquet.footer_cost(size, meta.serialized_size)
    assert requests == 2 + (tail > parquet.FOOTER_READ_BYTES)
    assert (counter.reads, counter.bytes) == (requests - 1, nbytes)


def test_a_file_that_changed_since_it_was_listed_is_an_error(tmp_path):
    path = str(tmp_path / "t.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0]}), path)
    listed = os.path.getsize(path)
    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0]}), path)
    with pytest.raises(OSError, match="changed while being read"):
        parquet.open_parquet(pafs.LocalFileSystem(), path, listed)


def test_record_equals_what_was_read(tiny_catalog, tmp_path):
    """Every byte and read call through a counting filesystem, for shards with and without
    matches, at a radius whose cones cross partitions."""
    targets = demo.build_sky(1, 5).targets[["target_id", "ra", "dec"]]
    rows = manifest.target_partitions(targets, 4.0, 2, None)
    cols = columns.cached_columns()
    total = reads.ReadRecord()
    paths = {}
    for shard, g in rows.groupby("shard"):
        counter = iocount.ReadCounter()
        cat = catalog.open_catalog(str(tiny_catalog))
        cat = dataclasses.replace(
            cat, filesystem=iocount.counting_filesystem(cat.filesystem, counter)
        )
        record = reads.ReadRecord()
        table = matching.match_shard(cat, "year1", g, 4.0, cols, 2, record)
        assert record.bytes == counter.bytes, shard
        assert record.files == counter.files
        parts = record.footer_bytes + record.position_bytes + record.column_bytes
        assert record.bytes == parts
        assert record.listings == g["k5"].nunique()
        assert record.row_groups_second_pass <= record.row_groups - record.row_groups_skipped
        assert record.floor_bytes >= record.footer_bytes + record.position_bytes
        if table.num_rows:
            assert record.row_groups_second_pass > 0 and record.column_bytes > 0
        total.add(**record.to_dict())
        paths[shard] = tmp_path / f"{shard}.parquet"
        pq.write_table(reads.write_record(table, record), paths[shard])
        assert reads.read_record(paths[shard]) == record
    plain = tmp_path / "plain.parquet"
    pq.write_table(table, plain)
    summed, per_year = reads.run_reads({"year1": [*map(str, paths.values()), str(plain)]})
    assert summed["jobs"] == len(paths) and summed["jobs_without_record"] == 1
    assert {k: summed[k] for k in total.to_dict()} == total.to_dict()
    assert summed["amplification"] == round(total.bytes / total.floor_bytes, 3)
    assert per_year["year1"] == summed


@pytest.mark.parametrize("whole_k0_from", [catalog.WHOLE_K0_FROM, 2])
def test_plan_estimate_brackets_what_the_run_reads(tiny_catalog, monkeypatch, whole_k0_from):
    """With every file's footer sampled, the estimate's files, skipped row groups, footers,
    floor and listings are exact, and the run's requests and bytes lie between its low and
    high (also where the match jobs list order-0 pixels whole, here from 2 partitions)."""
    monkeypatch.setattr(catalog, "WHOLE_K0_FROM", whole_k0_from)
    targets = demo.build_sky(1, 5).targets[["target_id", "ra", "dec"]]
    rows = manifest.target_partitions(targets, 4.0, 2, None)
    cols = columns.cached_columns()
    cat = catalog.open_catalog(str(tiny_catalog))
    shards = rows.groupby("shard")
    actual = reads.ReadRecord()
    for _, g in shards:
        matching.match_shard(cat, "year2", g, 4.0, cols, 2, actual)
    est = estimates.estimate_year(cat, "year2", rows, 4.0, cols, len(shards), sample_files=10**6)
    low, high, got = est["low"], est["high"], actual.to_dict()
    assert est["sampled"] == est["files"] == got["files"]
    for key in ("files", "row_groups", "row_groups_skipped", "footer_bytes", "floor_bytes"):
        assert low[key] == high[key] == got[key], key
    for key in ("requests", "bytes", "column_bytes", "row_groups_second_pass"):
        assert low[key] <= got[key] <= high[key], key
    assert low["position_bytes"] == got["position_bytes"] == high["position_bytes"]
    assert low["listings"] == got["listings"]
    assert (got["listings"] < rows.groupby("shard")["k5"].nunique().sum()) == (whole_k0_from == 2)
    text = estimates.estimate_text({"year2": est}, 4)
    assert f"{got['floor_bytes']:,}" in text and "80 ms" in text
    missing = estimates.estimate_year(cat, "year7", rows, 4.0, cols, len(shards))
    assert missing["missing"] and missing["files"] == 0
    assert "no dataset" in estimates.estimate_text({"year7": missing}, 4)
