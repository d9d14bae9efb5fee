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
