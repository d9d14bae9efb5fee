"""match_shard over real Parquet files equals brute force over the whole demo catalogue."""

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pytest
from conftest import brute_force_pairs

from neowise_lightcurves import catalog, columns, demo, manifest, matching


@pytest.mark.parametrize("radius", [1.0, 6.0])
def test_match_shard_equals_brute_force(tiny_catalog, radius):
    targets = demo.build_sky(seed=1, field_sources=5).targets
    rows = manifest.target_partitions(targets, radius, 5)
    cat = catalog.open_catalog(str(tiny_catalog))
    cols = columns.cached_columns()
    got = pd.concat(
        [
            matching.match_shard(cat, "year1", g, radius, cols, 2).to_pandas()
            for _, g in rows.groupby("shard")
        ]
    )
    # reference: every row of the year's dataset (read through pyarrow's dataset API)
    ds = pads.dataset(
        tiny_catalog / "year1" / "neowiser-healpix_k5-year1.parquet",
        format="parquet",
        partitioning="hive",
        exclude_invalid_files=True,
    )
    everything = ds.to_table(columns=["ra", "dec", "cntr"]).to_pandas()
    pairs = brute_force_pairs(
        targets["ra"], targets["dec"], everything["ra"], everything["dec"], radius
    )
    want = {(targets["target_id"].iloc[t], int(everything["cntr"].iloc[d])) for t, d in pairs}
    have = set(zip(got["target_id"], got["cntr"].astype(int), strict=True))
    assert have == want
    assert len(have) == len(got)
    assert (got["year"] == "year1").all()
    if radius == 1.0:
        assert "EMPTY" not in set(got["target_id"])
    dup = got[got["target_id"].isin(["DUP-1", "DUP-2"])].groupby("target_id")["cntr"].apply(set)
    assert dup["DUP-1"] == dup["DUP-2"] and len(dup["DUP-1"]) > 10


def test_missing_year_and_missing_column(tiny_catalog, tmp_path):
    targets = pd.DataFrame({"target_id": ["x"], "ra": [150.1], "dec": [2.2]})
    rows = manifest.target_partitions(targets, 1.0, 5)
    cat = catalog.open_catalog(str(tiny_catalog))
    with pytest.raises(catalog.CatalogError, match="no dataset for year7"):
        matching.match_shard(cat, "year7", rows, 1.0, columns.cached_columns(), 1)
    # an empty partition this year: empty result with the full schema
    far = manifest.target_partitions(
        pd.DataFrame({"target_id": ["y"], "ra": [200.0], "dec": [-60.0]}), 1.0, 5
    )
    out = matching.match_shard(cat, "year1", far, 1.0, columns.cached_columns(), 1)
    assert out.num_rows == 0 and "w1flux" in out.schema.names
    # a file whose schema lacks a needed column fails with its path
    import pyarrow.parquet as pq

    src = next((tiny_catalog / "year1").glob("*/healpix_k0=2/healpix_k5=*/part0.snappy.parquet"))
    k5 = int(src.parent.name.split("=")[1])
    dest = tmp_path / src.relative_to(tiny_catalog)
    dest.parent.mkdir(parents=True)
    pq.write_table(pq.read_table(src).drop_columns(["w2flux"]), dest)
    ra, dec = pq.read_table(src, columns=["ra", "dec"]).slice(0, 1).to_pandas().iloc[0]
    rows = pd.DataFrame({"target_id": ["z"], "ra": [ra], "dec": [dec], "k5": [k5], "shard": ["s"]})
    with pytest.raises(catalog.CatalogError, match=r"lacks needed column\(s\): w2flux"):
        matching.match_shard(
            catalog.open_catalog(str(tmp_path)), "year1", rows, 1.0, columns.cached_columns(), 1
        )
    assert np.isfinite(ra)


@pytest.mark.parametrize("passes", [1, 2])
@pytest.mark.parametrize("batch_rows", [1, 100, 10**9])
def test_match_file_batches_on_unclustered_row_groups(tiny_catalog, tmp_path, batch_rows, passes):
    """Rows in random order and small row groups (no pruning possible), read in batches of
    one, a few, or all row groups: the matched rows and every column of them are exact."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    src = max((tiny_catalog / "year1").rglob("part*.parquet"), key=lambda p: p.stat().st_size)
    table = pq.read_table(src)
    assert table.num_rows > 300
    rng = np.random.default_rng(3)
    table = table.take(rng.permutation(table.num_rows))
    leaf = tmp_path / "leaf"
    leaf.mkdir()
    pq.write_table(table, leaf / "part0.snappy.parquet", row_group_size=table.num_rows // 12)
    assert pq.ParquetFile(leaf / "part0.snappy.parquet").metadata.num_row_groups > 5
    # targets on a few rows scattered through the file, one of them twice
    picks = rng.choice(table.num_rows, 6, replace=False)
    ra, dec = table["ra"].to_numpy()[picks], table["dec"].to_numpy()[picks]
    targets = pd.DataFrame(
        {
            "target_id": [f"t{i}" for i in range(6)] + ["t0-again"],
            "ra": np.append(ra, ra[0]),
            "dec": np.append(dec, dec[0]),
        }
    )
    cat = catalog.Catalog(pafs.LocalFileSystem(), str(tmp_path), str(tmp_path))
    info = pafs.LocalFileSystem().get_file_info(str(leaf / "part0.snappy.parquet"))
    cols = columns.cached_columns()
    got = pa_concat(
        matching.match_file(cat, info, targets, 5.0, cols, batch_rows=batch_rows, passes=passes)
    ).to_pandas()
    pairs = brute_force_pairs(targets["ra"], targets["dec"], table["ra"], table["dec"], 5.0)
    want = table.take(sorted({d for _, d in pairs})).to_pandas().set_index("cntr")
    assert len(got) == len(pairs)
    assert {(targets["target_id"][t], int(table["cntr"][d].as_py())) for t, d in pairs} == set(
        zip(got["target_id"], got["cntr"], strict=True)
    )
    # every column of a matched row is that row's own value
    mine = got.drop_duplicates("cntr").set_index("cntr")[list(cols[1:])]
    pd.testing.assert_frame_equal(
        mine.sort_index(), want[list(cols[1:])].sort_index(), check_dtype=False
    )
    # and each match names its row in the file
    where = table["cntr"].to_numpy()
    assert (where[got["catalog_row"].to_numpy()] == got["cntr"].to_numpy()).all()


def test_one_pass_or_two_from_the_footer(tiny_catalog, tmp_path):
    """Rows in random order: every row group spans the year, so one pass (every column at
    once); in time order the row groups split the year, so two passes, which read the other
    columns of only the row groups that hold a match. Both give the same matches; a single
    row group is always read in one pass. (What each saves on files of real size is measured
    by benchmarks/object_store.py.)"""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from neowise_lightcurves import reads

    src = max((tiny_catalog / "year1").rglob("part*.parquet"), key=lambda p: p.stat().st_size)
    table = pq.read_table(src)
    shuffled = table.take(np.random.default_rng(5).permutation(table.num_rows))
    by_time = table.sort_by("mjd")
    fs = pafs.LocalFileSystem()
    cat = catalog.Catalog(fs, str(tmp_path), str(tmp_path))
    row = table.num_rows // 2
    targets = pd.DataFrame(
        {"target_id": ["t"], "ra": [table["ra"][row].as_py()], "dec": [table["dec"][row].as_py()]}
    )
    answers, records = {}, {}
    for name, rows, group in (
        ("random", shuffled, table.num_rows // 8),
        ("time", by_time, table.num_rows // 8),
        ("one", shuffled, table.num_rows),
    ):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(rows, path, row_group_size=group)
        meta = pq.read_metadata(path)
        chosen = matching.passes_for(meta, list(range(meta.num_row_groups)))
        assert chosen == (2 if name == "time" else 1), name
        for passes in (1, 2, None):
            record = reads.ReadRecord()
            got = pa_concat(
                matching.match_file(
                    cat,
                    fs.get_file_info(str(path)),
                    targets,
                    2.0,
                    columns.cached_columns(),
                    record=record,
                    passes=passes,
                )
            )
            answers[(name, passes)] = sorted(got["cntr"].to_pylist())
            records[(name, passes)] = record
            if passes == 2:  # the row groups holding a match: only theirs read twice
                hit = {r // group for r in got["catalog_row"].to_pylist()}
                assert record.row_groups_second_pass == len(hit), name
        assert records[(name, None)].files_one_pass == (chosen == 1)
    assert len({tuple(v) for v in answers.values()}) == 1 and len(answers["one", None]) > 3
    # one pass reads every candidate row group's columns in one round of requests
    for name in ("random", "time"):
        one = records[name, 1]
        assert one.row_groups_second_pass == one.row_groups - one.row_groups_skipped > 1
        assert one.position_bytes == 0 and one.requests < records[name, 2].requests


def pa_concat(tables):
    import pyarrow as pa

    return pa.concat_tables(tables)


def test_flags_decoded_as_dictionaries_give_the_same_matches(tiny_catalog, tmp_path, monkeypatch):
    """String columns of few values with a small dictionary page (flags) are decoded as
    dictionaries, others (many long values: a large dictionary; no dictionary) as strings;
    the matches are the same either way, their columns strings, in one pass and in two."""
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from neowise_lightcurves import parquet

    src = max((tiny_catalog / "year1").rglob("part*.parquet"), key=lambda p: p.stat().st_size)
    table = pq.read_table(src)
    rng = np.random.default_rng(3)
    names = [rng.bytes(16).hex() for _ in range(table.num_rows)]  # every value its own
    table = table.append_column("many", pa.array(names)).append_column("plain", table["cc_flags"])
    path = tmp_path / "flags.parquet"
    dictionary = [c for c in table.column_names if c != "plain"]  # "plain": no dictionary
    pq.write_table(table, path, row_group_size=table.num_rows // 4, use_dictionary=dictionary)
    meta = pq.read_metadata(path)
    groups = range(meta.num_row_groups)
    # this file's row groups are small: a limit between the flags' dictionaries and "many"'s
    monkeypatch.setattr(parquet, "SMALL_DICTIONARY_BYTES", 1024)
    wanted = ["cc_flags", "ph_qual", "many", "plain", "w1flux"]
    assert parquet.dictionary_columns(meta, groups, wanted) == ["cc_flags", "ph_qual"]
    fs = pafs.LocalFileSystem()
    cat = catalog.Catalog(fs, str(tmp_path), str(tmp_path))
    row = table.num_rows // 2
    targets = pd.DataFrame(
        {"target_id": ["t"], "ra": [table["ra"][row].as_py()], "dec": [table["dec"][row].as_py()]}
    )
    cols = (*columns.cached_columns(), "ph_qual", "many", "plain")
    got = {}
    for small in (1024, -1):  # -1: nothing read as a dictionary
        monkeypatch.setattr(parquet, "SMALL_DICTIONARY_BYTES", small)
        for passes in (1, 2):
            info = fs.get_file_info(str(path))
            out = pa_concat(matching.match_file(cat, info, targets, 5.0, cols, passes=passes))
            assert all(out.schema.field(c).type == pa.string() for c in ("cc_flags", "ph_qual"))
            got[small, passes] = out.sort_by("cntr")
    first = next(iter(got.values()))
    assert first.num_rows > 3 and all(t.equals(first) for t in got.values())


@pytest.mark.parametrize("broken", ["listing", "file"])
@pytest.mark.parametrize("whole_k0_from", [catalog.WHOLE_K0_FROM, 2])
def test_a_failed_listing_or_file_stops_the_shard_with_its_path(
    tiny_catalog, tmp_path, broken, whole_k0_from, monkeypatch
):
    """A partition that cannot be listed, or a file that cannot be read, raises a
    CatalogError naming it from match_shard (the reads are pipelined behind the listings;
    what still waits is cancelled), also where its order-0 pixel is listed whole (here from
    2 partitions, 4 files read at once)."""
    import shutil

    monkeypatch.setattr(catalog, "WHOLE_K0_FROM", whole_k0_from)
    root = tmp_path / "catalog"
    shutil.copytree(tiny_catalog, root)
    targets = demo.build_sky(seed=1, field_sources=5).targets
    rows = manifest.target_partitions(targets, 1.0, 5)
    # in the pixel of most partitions (listed whole from 2), not its first: mid-shard
    k5 = max(catalog.listing_units(rows["k5"], 2), key=len)[1]
    folder = root / catalog.partition_path("year1", int(k5))
    if broken == "listing":
        shutil.rmtree(folder)
        folder.write_text("not a folder")
        expected = "cannot list"
    else:
        (victim,) = [p for p in folder.iterdir() if p.suffix == ".parquet"][:1]
        victim.write_bytes(victim.read_bytes()[:100])
        expected = f"cannot read catalogue file .*{victim.name}"
    cat = catalog.open_catalog(str(root))
    with pytest.raises(matching.CatalogError, match=expected):
        matching.match_shard(
            cat, "year1", rows, 1.0, columns.cached_columns(), 1 if whole_k0_from > 2 else 4
        )
