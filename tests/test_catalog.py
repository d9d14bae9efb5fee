import pytest

from neowise_lightcurves import catalog, iocount


def test_year_names_and_paths():
    assert catalog.year_name(3) == "year3"
    assert catalog.year_name("addendum") == "addendum"
    with pytest.raises(ValueError, match="no NEOWISE year 12"):
        catalog.year_name(12)
    assert (
        catalog.partition_path("year1", 8277)
        == "year1/neowiser-healpix_k5-year1.parquet/healpix_k0=8/healpix_k5=8277"
    )


def test_listing_local_root(tiny_catalog):
    cat = catalog.open_catalog(str(tiny_catalog))
    assert cat.year_exists("year1") and not cat.year_exists("year9")
    ds = tiny_catalog / "year1" / "neowiser-healpix_k5-year1.parquet"
    two = [p.parent for p in ds.glob("*/*/part1.snappy.parquet")][0]
    k5 = int(two.name.split("=")[1])
    names = [i.base_name for i in cat.partition_files("year1", k5)]
    assert names == ["part0.snappy.parquet", "part1.snappy.parquet"]
    assert cat.partition_files("year1", 5000) == []  # no such partition: empty, not an error


def test_relative_root_and_uri(tiny_catalog, monkeypatch):
    monkeypatch.chdir(tiny_catalog.parent)
    cat = catalog.open_catalog(tiny_catalog.name)
    assert cat.year_exists("year2")
    cat = catalog.open_catalog(f"file://{tiny_catalog}")
    assert cat.year_exists("year2")


def test_counting_filesystem_counts_what_is_read(tiny_catalog):
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    counter = iocount.ReadCounter()
    fs = iocount.counting_filesystem(pafs.LocalFileSystem(), counter)
    path = max(tiny_catalog.glob("year1/*/*/*/part*.parquet"), key=lambda p: p.stat().st_size)
    pf = pq.ParquetFile(fs.open_input_file(str(path)))
    footer = counter.bytes  # the footer: schema and statistics
    assert counter.files == 1 and 0 < footer < path.stat().st_size
    pf.read(columns=["ra"])
    ra_only = counter.bytes - footer
    pf.read()
    everything = counter.bytes - footer - ra_only
    assert 0 < 20 * ra_only < everything <= path.stat().st_size


def test_explain_reads_status_codes_as_words():
    """A port number in an SDK message (127.0.0.1:40403) is not an HTTP 403."""
    refused = OSError(
        "When reading information for key 'k' in bucket 'b': AWS Error "
        "NETWORK_CONNECTION during HeadObject operation: curlCode: 7, "
        "Couldn't connect to server (127.0.0.1:40403)"
    )
    assert catalog.explain(refused).startswith("no network connection")
    denied = OSError("AWS Error ACCESS_DENIED during HeadObject operation: HTTP 403")
    assert catalog.explain(denied).startswith("access denied (403)")
    assert catalog.explain(OSError("HTTP response code 404")).startswith("not found (404)")


def test_every_catalogue_of_a_process_writes_its_own_record(tiny_catalog, tmp_path):
    """COUNT_BYTES_ENV: two catalogues opened in one process (the one job opens one a year)
    each write their reads at exit, neither over the other's."""
    import json
    import os
    import subprocess
    import sys

    folder = tmp_path / "io"
    code = f"""
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from neowise_lightcurves import catalog, iocount
for year in ("year1", "year2"):
    cat = iocount.from_environment(catalog.open_catalog({str(tiny_catalog)!r}))
    infos = cat.filesystem.get_file_info(pafs.FileSelector(cat.path(year), recursive=True))
    files = sorted(i.path for i in infos if i.type == pafs.FileType.File)
    pq.ParquetFile(cat.filesystem.open_input_file(files[0])).read(columns=["ra"])
"""
    env = dict(os.environ, **{iocount.COUNT_BYTES_ENV: str(folder)})
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    assert len(records) == 2
    assert all(r["files"] == 1 and r["bytes"] > 0 for r in records)


def test_listing_units_list_an_order_0_pixel_whole_from_the_threshold():
    """k0 0 holds k5 0-1023, k0 1 holds 1024-2047."""
    assert catalog.listing_units([5, 3, 1030, 7, 3], whole_k0_from=3) == [(3, 5, 7), (1030,)]
    assert catalog.listing_units([5, 3, 1030, 7], whole_k0_from=4) == [(3,), (5,), (7,), (1030,)]
    n = catalog.WHOLE_K0_FROM
    assert catalog.listing_units(range(2048, 2048 + n)) == [tuple(range(2048, 2048 + n))]
    assert catalog.listing_units(range(n - 1)) == [(k,) for k in range(n - 1)]
    assert catalog.listing_units([]) == []


def _paths(files):
    """Paths and sizes of listed files (a FileInfo's equality also compares times)."""
    if isinstance(files, dict):
        return {k: _paths(v) for k, v in files.items()}
    return [(i.path, i.size) for i in files]


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_an_order_0_pixels_listing_finds_each_partitions_files(tmp_path):
    """Listed whole, an order-0 pixel's folder gives each partition asked for the files its own
    listing gives: data files directly in its leaf folder, sorted, none of a partition not
    asked for, none for a partition without a folder; one request a page of 1,000 keys."""
    ds = tmp_path / catalog.year_dataset("year1") / "healpix_k0=2"
    for k5 in range(2048, 2060):
        _touch(ds / f"healpix_k5={k5}" / "part0.snappy.parquet")
    _touch(ds / "healpix_k5=2050" / "part1.snappy.parquet")
    for clutter in ("_SUCCESS", ".part2.parquet", "notes.txt", "sub/part9.parquet"):
        _touch(ds / "healpix_k5=2049" / clutter)
    _touch(ds / "stray.parquet")  # in the pixel's folder, in no partition's
    cat = catalog.open_catalog(str(tmp_path))
    asked = (2048, 2049, 2050, 2051, 2070)  # 2070: no folder
    found, requests = cat.list_partitions("year1", asked)
    assert _paths(found) == {k5: _paths(cat.partition_files("year1", k5)) for k5 in asked}
    assert [i.base_name for i in found[2050]] == ["part0.snappy.parquet", "part1.snappy.parquet"]
    assert [i.base_name for i in found[2049]] == ["part0.snappy.parquet"]
    assert found[2070] == [] and requests == 1
    for k5 in range(2060, 2060 + 1000):  # 1,018 keys under the pixel: two pages
        _touch(ds / f"healpix_k5={k5}" / "part0.snappy.parquet")
    assert cat.list_partitions("year1", asked)[1] == 2
    single, requests = cat.list_partitions("year1", (2050,))
    assert _paths(single) == {2050: _paths(cat.partition_files("year1", 2050))} and requests == 1
    with pytest.raises(ValueError, match="not all in one order-0 pixel"):
        cat.list_partitions("year1", (2048, 1030))
