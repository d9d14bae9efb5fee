"""The catalogue read from S3: a real S3 server (moto) on loopback holds the demo sky in IRSA's
bucket layout; the workflow's output equals the local run's, also when the server answers 503
for a while; access errors name the path."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import DEFAULTS
from servers import BUCKET, PREFIX, MotoServer, Proxy
from workflow_helpers import TINY, deep_update, snakemake

from neowise_lightcurves import (
    catalog,
    columns,
    demo,
    estimates,
    manifest,
    matching,
    parquet,
    reads,
)

pytestmark = pytest.mark.workflow

IRSA_LIKE = f"s3://{BUCKET}/{PREFIX}"


@pytest.fixture(scope="module")
def s3(tiny_catalog):
    server = MotoServer()
    n = server.upload_tree(tiny_catalog)
    server.upload_tree(tiny_catalog, bucket="private-copy", public=False)
    assert n > 20
    yield server
    server.stop()


def s3_config(endpoint, **kw):
    return {
        "root": IRSA_LIKE,
        "years": [1, 2],
        "s3": {"endpoint_override": endpoint, "scheme": "http", **kw},
    }


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, tiny_catalog):
    wd = tmp_path_factory.mktemp("local")
    demo.build_sky(1, 5).targets.to_csv(wd / "targets.csv", index=False)
    cfg = deep_update(
        TINY,
        {
            "targets": {"source": "file", "path": "targets.csv"},
            "catalog": {"root": str(tiny_catalog)},
        },
    )
    snakemake(wd, cfg)
    return cfg, pd.read_parquet(wd / "results/lightcurves.parquet")


def test_workflow_on_s3_equals_local_and_records_its_reads(tmp_path, s3, local_run):
    """Through a proxy that records every request: the light curves equal the local run's, and
    the run's read record (summed from every match job's) counts exactly the requests the
    server got and the bytes of its ranged reads."""
    cfg, local = local_run
    proxy = Proxy(s3.endpoint)
    try:
        demo.build_sky(1, 5).targets.to_csv(tmp_path / "targets.csv", index=False)
        ran, _ = snakemake(tmp_path, deep_update(cfg, {"catalog": s3_config(proxy.endpoint)}))
    finally:
        proxy.stop()
    assert ran["match"] > 0
    remote = pd.read_parquet(tmp_path / "results/lightcurves.parquet")
    assert len(remote) > 100
    pd.testing.assert_frame_equal(remote, local)
    record = json.loads((tmp_path / "results/reads.json").read_text())
    total = record["total"]
    assert total["jobs"] == ran["match"] and total["jobs_without_record"] == 0
    assert total["requests"] == len(proxy.requests)
    assert total["bytes"] == sum(r["bytes"] for r in proxy.requests if r["range"])
    assert total["bytes"] == total["footer_bytes"] + total["position_bytes"] + total["column_bytes"]
    # each job: a key lookup and a listing for its year's folder, a listing per partition,
    # a size lookup per file opened
    listings = sum(r["method"] == "GET" and r["range"] is None for r in proxy.requests)
    assert listings == total["listings"] + total["jobs"]
    assert sum(r["method"] == "HEAD" for r in proxy.requests) == total["files"] + total["jobs"]
    per_year = record["per_year"]
    assert set(per_year) == {"year1", "year2"}
    assert sum(y["requests"] for y in per_year.values()) == total["requests"]


def test_fetch_in_process_equals_the_workflow(tmp_path, s3, local_run, tiny_catalog):
    """fetch(), in this process, returns what the workflow wrote, from a local copy and from
    S3 (its read record equal to what the server got)."""
    import neowise_lightcurves as nl

    cfg, local = local_run
    targets = demo.build_sky(1, 5).targets
    want = local.sort_values(["target_id", "mjd", "cntr"], ignore_index=True)
    run_config = deep_update(DEFAULTS, cfg)
    on_disk = nl.fetch(targets, config=run_config, root=str(tiny_catalog))
    got = on_disk.to_pandas().sort_values(["target_id", "mjd", "cntr"], ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
    assert on_disk["w1flux"].unit is not None and on_disk.meta
    proxy = Proxy(s3.endpoint)
    record = reads.ReadRecord()
    try:
        remote, binned = nl.fetch(
            targets, config=run_config, binned=True, record=record, **s3_config(proxy.endpoint)
        )
    finally:
        proxy.stop()
    pd.testing.assert_frame_equal(remote.to_pandas(), on_disk.to_pandas())
    assert record.requests == len(proxy.requests)
    assert record.bytes == sum(r["bytes"] for r in proxy.requests if r["range"])
    assert set(binned["target_id"]) == set(remote["target_id"])


def test_workflow_survives_503s(tmp_path, s3, local_run):
    cfg, local = local_run
    proxy = Proxy(s3.endpoint, fail_seconds=1.5)
    try:
        demo.build_sky(1, 5).targets.to_csv(tmp_path / "targets.csv", index=False)
        snakemake(tmp_path, deep_update(cfg, {"catalog": s3_config(proxy.endpoint)}))
    finally:
        proxy.stop()
    assert proxy.failed > 0 and proxy.forwarded > 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results/lightcurves.parquet"), local)


def rows_for(ra, dec):
    t = pd.DataFrame({"target_id": ["x"], "ra": [ra], "dec": [dec]})
    return manifest.target_partitions(t, 1.0, 5)


def s3_settings(endpoint, **options):
    """config.yaml's ``catalog.s3``, pointed at a server on loopback, with ``options``."""
    return {**DEFAULTS["catalog"]["s3"], "endpoint_override": endpoint, "scheme": "http", **options}


def test_credentials_and_access_errors(s3, monkeypatch):
    cols = columns.cached_columns()
    rows = rows_for(150.1, 2.2)
    # a private bucket: anonymous reads are denied, with the path named
    private = catalog.open_catalog(f"s3://private-copy/{PREFIX}", s3=s3_settings(s3.endpoint))
    with pytest.raises(catalog.CatalogError, match=r"access denied \(403\).*private-copy"):
        matching.match_shard(private, "year1", rows, 1.0, cols, 1)
    # ... and work with the usual AWS environment's credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    signed = catalog.open_catalog(
        f"s3://private-copy/{PREFIX}", s3=s3_settings(s3.endpoint, anonymous=False)
    )
    assert matching.match_shard(signed, "year1", rows, 1.0, cols, 1).num_rows > 10


def test_missing_bucket_and_no_network():
    from servers import free_port

    cols = columns.cached_columns()
    nowhere = catalog.open_catalog(
        f"s3://{BUCKET}/{PREFIX}", s3=s3_settings(f"127.0.0.1:{free_port()}", retries=2)
    )
    with pytest.raises(catalog.CatalogError, match=r"no network connection.*year1"):
        matching.match_shard(nowhere, "year1", rows_for(150.1, 2.2), 1.0, cols, 1)


@pytest.mark.parametrize("whole_k0_from", [catalog.WHOLE_K0_FROM, 2])
def test_plan_estimate_on_s3_reads_only_listings_and_footers(s3, monkeypatch, whole_k0_from):
    """The plan's estimate asks the server for listings and footers, nothing else, and counts
    the listings the match job makes (from 2 partitions of an order-0 pixel: fewer, one a
    pixel)."""
    monkeypatch.setattr(catalog, "WHOLE_K0_FROM", whole_k0_from)
    targets = demo.build_sky(1, 5).targets[["target_id", "ra", "dec"]]
    rows = manifest.target_partitions(targets, 1.0, 2, None)
    proxy = Proxy(s3.endpoint)
    try:
        cat = catalog.open_catalog(IRSA_LIKE, s3=s3_settings(proxy.endpoint))
        est = estimates.estimate_year(
            cat, "year1", rows, 1.0, columns.cached_columns(), 1, sample_files=10**6
        )
    finally:
        proxy.stop()
    assert est["files"] > 10 and est["sampled"] == est["files"]
    ranged = [r for r in proxy.requests if r["range"]]
    assert sum(r["bytes"] for r in ranged) == est["low"]["footer_bytes"]
    heads = sum(r["method"] == "HEAD" for r in proxy.requests)
    assert heads == est["files"] + 1  # a size lookup per file, the year's folder
    listings = len(proxy.requests) - heads - len(ranged)
    assert listings == len(catalog.listing_units(rows["k5"])) + 1  # and the year's folder
    assert (listings < est["partitions"] + 1) == (whole_k0_from == 2)
    # the match jobs', a shard each
    jobs = sum(len(catalog.listing_units(k5s)) for _, k5s in rows.groupby("shard")["k5"])
    assert est["low"]["listings"] == est["high"]["listings"] == jobs


def test_files_are_read_while_partitions_are_still_listed(s3):
    """A partition's files are read as soon as its listing is back: at 0.2 s a request and
    one partition at a time, the first file's footer arrives before the last listing (read
    after every listing, it came after all of them)."""
    targets = demo.build_sky(1, 5).targets[["target_id", "ra", "dec"]]
    rows = manifest.target_partitions(targets, 1.0, 2, None)
    rows = rows[rows["k5"].isin(sorted(rows["k5"].unique())[:4])]  # 4 partitions
    proxy = Proxy(s3.endpoint, latency_s=0.2)
    try:
        cat = catalog.open_catalog(IRSA_LIKE, s3=s3_settings(proxy.endpoint))
        got = matching.match_shard(cat, "year1", rows, 1.0, ("ra", "dec", "mjd", "cntr"), 1)
    finally:
        proxy.stop()
    order = [("list-type" in r["path"], r["range"] is not None) for r in proxy.requests]
    last_listing = max(i for i, (listing, _) in enumerate(order) if listing)
    first_read = min(i for i, (_, ranged) in enumerate(order) if ranged)
    assert first_read < last_listing
    assert got.num_rows > 0


def test_a_footer_is_read_while_the_file_is_opened(s3):
    """Given a file's size (from its listing), open_parquet asks for the footer without waiting
    for the size lookup that opening the file costs (S3: a HEAD): at 1 s a request, the tail's
    GET arrives before the HEAD is answered; without the size it comes after. The same
    requests either way, as footer_cost counts them."""
    proxy = Proxy(s3.endpoint, latency_s=1.0)
    try:
        cat = catalog.open_catalog(IRSA_LIKE, s3=s3_settings(proxy.endpoint))
        targets = demo.build_sky(1, 5).targets[["target_id", "ra", "dec"]]
        k5 = int(manifest.target_partitions(targets, 1.0, 2, None)["k5"].iloc[0])
        info = cat.partition_files("year1", k5)[0]
        for size in (info.size, None):
            proxy.reset()
            source, meta = parquet.open_parquet(cat.filesystem, info.path, size)
            assert source.size() == info.size
            seen = list(proxy.requests)
            head = [r for r in seen if r["method"] == "HEAD"]
            tail = [r for r in seen if r["range"] is not None]
            requests, nbytes = parquet.footer_cost(info.size, meta.serialized_size)
            assert len(head) == 1 and len(seen) == requests
            assert sum(r["bytes"] for r in tail) == nbytes
            before = min(r["arrived"] for r in tail) < head[0]["done"]
            assert before == (size is not None)
    finally:
        proxy.stop()


def test_an_order_0_pixel_listed_whole_finds_the_same_rows(s3, monkeypatch):
    """Where a match job lists each order-0 pixel's folder whole (here from two partitions of
    it, not catalog.WHOLE_K0_FROM), it finds the same rows as listing each partition, with one
    listing request a pixel, and its record counts every request the server saw."""
    targets = demo.build_sky(1, 5).targets[["target_id", "ra", "dec"]]
    rows = manifest.target_partitions(targets, 1.0, 2, None)
    cols = ("ra", "dec", "mjd", "cntr", "w1flux")
    proxy = Proxy(s3.endpoint)

    def run():
        record, first = reads.ReadRecord(), len(proxy.requests)
        got = matching.match_shard(cat, "year1", rows, 1.0, cols, 4, record=record)
        return got, record, proxy.requests[first:]

    try:
        cat = catalog.open_catalog(IRSA_LIKE, s3=s3_settings(proxy.endpoint))
        each, _, asked_each = run()
        monkeypatch.setattr(catalog, "WHOLE_K0_FROM", 2)
        whole, record, asked = run()
    finally:
        proxy.stop()
    units = catalog.listing_units(rows["k5"])
    assert len(units) < rows["k5"].nunique()  # some pixels hold several partitions
    assert whole.equals(each) and whole.num_rows > 0
    listings = [r for r in asked if "list-type" in r["path"]]
    assert len(listings) == len(units) + 1  # and the year's folder's
    assert len(listings) < sum("list-type" in r["path"] for r in asked_each)
    assert record.listings == len(units) and record.requests == len(asked)


def test_a_pixel_of_more_than_a_page_of_keys_is_listed_in_pages(s3, tmp_path):
    """An order-0 pixel's folder of 1,001 keys is listed in two requests (S3's pages of 1,000
    keys), as list_partitions counts them."""
    dataset = f"{PREFIX}/{catalog.year_dataset('year1')}"
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    s3.upload(
        "many-keys",
        {
            f"{dataset}/healpix_k0=1/healpix_k5={k5}/part0.snappy.parquet": empty
            for k5 in range(1024, 2025)
        },
    )
    proxy = Proxy(s3.endpoint)
    try:
        cat = catalog.open_catalog(f"s3://many-keys/{PREFIX}", s3=s3_settings(proxy.endpoint))
        found, requests = cat.list_partitions("year1", (1024, 1500, 2024))
    finally:
        proxy.stop()
    assert [len(found[k]) for k in (1024, 1500, 2024)] == [1, 1, 1]
    assert requests == 2 == sum("list-type" in r["path"] for r in proxy.requests)
