"""Light curves group by group: each group's targets, from the caches of every shard their
cones touch, in batches; equal to merging everything at once, whatever the shards, groups and
batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from neowise_lightcurves import (
    association,
    binning,
    catalog,
    columns,
    demo,
    lightcurves,
    manifest,
    matching,
    merge,
    outputs,
    periods,
    read_lightcurves,
    summary,
    target_files,
)

RADIUS = 4.0  # cones of the demo's corner and edge targets cross partitions
COLUMNS = columns.cached_columns()
BINNING = {"gap_days": 30.0, "sigma": 3.0, "iterations": 5}
CUTS = "cc_flags == '0000'"
YEARS = ("year1", "year2")
ASSOCIATION = {
    "min_cluster_detections": 5,
    "min_cluster_fraction": 0.1,
    "min_separation_arcsec": 0.5,
    "min_separation_sigma": 4.0,
    "max_gap_ratio": 0.5,
}
#: Periods on a coarse grid (cheap): batches must give every target the period of all its rows.
PERIODS = {
    "band": "w1",
    "min_detections": 20,
    "max_frequency_per_day": 4.0,
    "oversampling": 2,
    "fap_threshold": 0.001,
    "alias_window_power": 0.5,
}


def targets():
    return demo.build_sky(1, 5).targets[["target_id", "ra", "dec"]]


def plan_and_match(tiny_catalog, folder, max_shard_targets):
    """The manifest's rows and shards, and each (year, shard)'s match cache, in small row
    groups (so that reading a range of targets skips some)."""
    rows = manifest.target_partitions(targets(), RADIUS, 2, max_shard_targets)
    shards = {s.shard: s for s in manifest.shards(rows, RADIUS, COLUMNS, "demo")}
    cat = catalog.open_catalog(str(tiny_catalog))
    caches = {}
    for name in shards:
        for year in YEARS:
            table = matching.match_shard(cat, year, rows[rows["shard"] == name], RADIUS, COLUMNS, 1)
            path = folder / "cache" / f"{year}-{name}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path, row_group_size=16)
            caches[(name, year)] = str(path)
    return rows, shards, caches


def merge_all(outdir, rows, caches, batch_rows, formats=(), periods_options=PERIODS):
    """Every group merged into ``outdir`` as the workflow lays it out; returns stats."""
    stats = {}
    for g in manifest.groups(rows):
        name = g.group
        homes = rows.loc[(rows["group"] == name) & rows["home"], ["target_id", "ra", "dec"]]
        out = merge.Outputs(
            outputs.group_file(outdir, outputs.LIGHTCURVES, name),
            outputs.group_file(outdir, outputs.BINNED, name),
            outputs.group_file(outdir, outputs.SUMMARY_PIECES, name),
            outdir / "per_target" / name if formats else None,
            formats,
        )
        paths = [caches[(r, y)] for y in YEARS for r in g.reads]
        stats[name] = merge.merge_group(
            paths,
            homes,
            out,
            CUTS,
            BINNING,
            {"run": "test"},
            name,
            batch_rows,
            association_options=ASSOCIATION,
            periods_options=periods_options,
        )
    pieces = sorted((outdir / outputs.SUMMARY_PIECES).glob("*.parquet"))
    outputs.concat_parquet(pieces, outdir / outputs.SUMMARY)
    return stats


def sorted_frame(frame, keys):
    return frame.sort_values(keys, kind="stable", ignore_index=True)


@pytest.fixture(scope="module")
def all_at_once(tiny_catalog, tmp_path_factory):
    """Today's single merge: every cache file, every target, one frame."""
    folder = tmp_path_factory.mktemp("once")
    rows, shards, caches = plan_and_match(tiny_catalog, folder, None)
    t = targets()
    matches = lightcurves.read_matches(list(caches.values()))
    before = lightcurves.detections_per_target(matches, t)
    lc = lightcurves.build_lightcurves(matches, t, CUTS, gap_days=BINNING["gap_days"]).to_pandas()
    binned = binning.bin_visits(lc, **BINNING)
    flags = association.flag_fractions(matches, t)
    diagnostics = association.diagnostics(lc, t, ASSOCIATION, flags)
    found = periods.periods(lc, PERIODS)
    table = summary.summarize(
        lc, t, binned, n_before_cuts=before, diagnostics=diagnostics, periods=found
    )
    assert table["period_significant"].any() and table["period_days"].isna().any()
    return lc, binned, table


def test_read_matches_keeps_only_the_given_targets(tmp_path, monkeypatch):
    """Rows of other targets (a neighbour shard's) are dropped row group by row group, and row
    groups outside the ids' range are not read at all."""
    import pyarrow as pa

    ids = np.array([f"T{i:03d}" for i in range(100)], dtype=object)
    table = pa.table({"target_id": np.repeat(ids, 3), "cntr": np.arange(300)})
    paths = []
    for k, part in enumerate((table.slice(0, 150), table.slice(150))):
        paths.append(str(tmp_path / f"c{k}.parquet"))
        pq.write_table(part, paths[-1], row_group_size=30)
    want = ids[[5, 6, 7, 40, 41]]
    read = []
    original = pq.ParquetFile.read_row_group
    monkeypatch.setattr(
        pq.ParquetFile,
        "read_row_group",
        lambda self, i, **kw: read.append(i) or original(self, i, **kw),
    )
    got = lightcurves.read_matches(paths, list(reversed(want)))
    assert sorted(got["target_id"].to_pylist()) == sorted(np.repeat(want, 3).tolist())
    assert len(read) == 5  # T005..T041 lie in row groups 0-4 of the first file; none of the second
    assert lightcurves.read_matches(paths, []).num_rows == 0
    assert lightcurves.read_matches(paths).num_rows == 300


@pytest.mark.parametrize(
    ("max_shard_targets", "batch_rows"), [(None, 10**9), (None, 40), (1, 10**9), (3, 1)]
)
def test_shards_groups_and_batches_change_nothing(
    tiny_catalog, tmp_path, all_at_once, max_shard_targets, batch_rows
):
    rows, shards, caches = plan_and_match(tiny_catalog, tmp_path, max_shard_targets)
    groups = manifest.groups(rows)
    if max_shard_targets == 1:  # shards of one target or one partition: cones cross shards
        assert all(s.n_targets <= 1 or manifest.parse_shard(n)[0] == 5 for n, s in shards.items())
        assert any(len(g.reads) > 1 for g in groups)
        assert all(g.n_targets <= 1 or manifest.parse_shard(g.group)[0] == 5 for g in groups)
    elif max_shard_targets is None:  # a few dozen targets over the sky: one group
        assert [g.group for g in groups] == ["sky"]
    stats = merge_all(tmp_path / "out", rows, caches, batch_rows)
    if batch_rows == 1:
        assert max(s["batches"] for s in stats.values()) > 1
    lc, binned, table = all_at_once
    got = pd.read_parquet(tmp_path / "out" / outputs.LIGHTCURVES)
    pd.testing.assert_frame_equal(
        sorted_frame(got, ["target_id", "mjd", "cntr"]), sorted_frame(lc, ["target_id", "mjd"])
    )
    got = pd.read_parquet(tmp_path / "out" / outputs.BINNED)
    pd.testing.assert_frame_equal(
        sorted_frame(got, ["target_id", "epoch"]), sorted_frame(binned, ["target_id", "epoch"])
    )
    got = pd.read_parquet(tmp_path / "out" / outputs.SUMMARY)
    assert len(got) == len(targets())  # every target once, those without detections too
    want = sorted_frame(table, ["target_id"])
    pd.testing.assert_frame_equal(sorted_frame(got, ["target_id"])[list(want.columns)], want)
    # each target's rows are in its group's file, and only there
    home = rows.loc[rows["home"]].set_index("target_id")["group"]
    for path in (tmp_path / "out" / outputs.LIGHTCURVES).glob("*.parquet"):
        ids = pd.read_parquet(path, columns=["target_id"])["target_id"]
        assert (home.loc[ids.unique()] == path.stem).all()
        assert ids.is_monotonic_increasing


def test_no_period_columns_without_periods(tiny_catalog, tmp_path, all_at_once):
    rows, shards, caches = plan_and_match(tiny_catalog, tmp_path, None)
    merge_all(tmp_path / "out", rows, caches, 40, periods_options=None)
    got = pd.read_parquet(tmp_path / "out" / outputs.SUMMARY)
    assert list(got.columns) == [*summary.COLUMNS, "group"]
    want = sorted_frame(all_at_once[2], ["target_id"])[list(summary.COLUMNS)]
    pd.testing.assert_frame_equal(sorted_frame(got, ["target_id"])[list(summary.COLUMNS)], want)


def test_reader_fetches_a_few_targets(tiny_catalog, tmp_path, all_at_once):
    rows, shards, caches = plan_and_match(tiny_catalog, tmp_path, 1)
    out = tmp_path / "out"
    merge_all(out, rows, caches, 10**9)
    lc, binned, _ = all_at_once
    ids = ["OUTBURST", "CORNER", "EMPTY"]
    got = read_lightcurves(out, ids)
    want = sorted_frame(lc[lc["target_id"].isin(ids)], ["target_id", "mjd"])
    pd.testing.assert_frame_equal(got, want)
    assert "EMPTY" not in set(got["target_id"])  # no detections: no rows
    got = read_lightcurves(out, "OUTBURST", binned=True)
    pd.testing.assert_frame_equal(
        got, binned[binned["target_id"] == "OUTBURST"].reset_index(drop=True)
    )
    table = read_lightcurves(out, ["CORNER"], astropy=True)
    assert str(table["mjd"].unit) == "d" and table.meta["run"] == "test"
    assert len(read_lightcurves(out)) == len(lc)
    assert len(read_lightcurves(out, [])) == 0
    with pytest.raises(KeyError, match="2 target id.*NOPE1, NOPE2"):
        read_lightcurves(out, ["OUTBURST", "NOPE2", "NOPE1"])


def test_per_target_files_and_their_index(tiny_catalog, tmp_path, monkeypatch):
    rows, shards, caches = plan_and_match(tiny_catalog, tmp_path, None)
    out = tmp_path / "out"
    # few entries allowed per folder: every group's files go into hashed sub-folders
    monkeypatch.setattr(target_files, "MAX_FOLDER_ENTRIES", 3)
    merge_all(out, rows, caches, 50, formats=("parquet", "csv"))
    names = [g.group for g in manifest.groups(rows)]
    n = outputs.gather_target_index(
        {h: out / "per_target" / h for h in names}, out / "per_target/index.parquet"
    )
    index = pd.read_parquet(out / "per_target/index.parquet")
    assert n == len(index)
    with_data = pd.read_parquet(out / outputs.SUMMARY).query("n_detections > 0")
    assert set(index["target_id"]) == set(with_data["target_id"])
    assert len(index) == 4 * len(with_data)  # raw and binned, Parquet and CSV
    for tid, kind, fmt, path in index.itertuples(index=False):
        assert (out / "per_target" / path).is_file()
        assert len(path.split("/")) == 3  # group / hh / file
        if fmt == "parquet" and kind == "raw":
            got = pd.read_parquet(out / "per_target" / path)
            assert set(got["target_id"]) == {tid}
    for folder in (out / "per_target").iterdir():
        if folder.is_dir():
            for sub in folder.iterdir():
                assert sub.name == target_files.INDEX_NAME or len(sub.name) == 2


def test_target_batches():
    assert merge.target_batches(np.array([3, 3, 3, 10, 1]), 6) == [
        slice(0, 2),
        slice(2, 3),
        slice(3, 4),
        slice(4, 5),
    ]
    assert merge.target_batches(np.array([0, 0, 0]), 1) == [slice(0, 3)]
    assert merge.target_batches(np.array([], dtype=int), 5) == []


def test_remove_stale(tmp_path):
    folder = tmp_path / "lightcurves.parquet"
    folder.mkdir()
    for name in ("k2_1.parquet", "k2_2.parquet", "k5_77.parquet", ".tmp-k2_9.parquet-x", "_meta"):
        (folder / name).write_text("x")
    (folder / "k3_4").mkdir()
    removed = outputs.remove_stale(folder, {"k2_1", "k5_77"})
    assert sorted(p.name for p in removed) == ["k2_2.parquet", "k3_4"]
    assert sorted(p.name for p in folder.iterdir()) == [
        ".tmp-k2_9.parquet-x",
        "_meta",
        "k2_1.parquet",
        "k5_77.parquet",
    ]


def test_columns_read_later_equal_those_read_with_the_matches(tiny_catalog, tmp_path):
    """A cut's column read afterwards for the matched rows alone (matching.read_at, rule
    match_columns) equals the same column read with the matches, row for row; read_matches
    adds it to its match file's rows and refuses a columns file that does not line up."""
    from neowise_lightcurves import lightcurves, reads

    rows = manifest.target_partitions(targets(), RADIUS, -1, None)
    cat = catalog.open_catalog(str(tiny_catalog))
    side = ("qi_fact", "moon_masked", "source_id", "w1snr")
    base = matching.match_shard(cat, "year1", rows, RADIUS, columns.BASE_COLUMNS, 1)
    whole = matching.match_shard(cat, "year1", rows, RADIUS, columns.BASE_COLUMNS + side, 1)
    assert base.num_rows > 100 and base["cntr"].equals(whole["cntr"])
    record = reads.ReadRecord()
    later = matching.read_at(cat, base.select(list(columns.LOCATION_COLUMNS)), side, 2, record)
    assert later.equals(whole.select(list(side)))
    # only the row groups holding a match were read, footers included
    assert 0 < record.row_groups_second_pass <= record.row_groups and record.column_bytes > 0
    # kept beside the match file, row for row: the light curves get the columns
    match_path, side_path = tmp_path / "m.parquet", tmp_path / "m+k.parquet"
    pq.write_table(base, match_path, row_group_size=64)
    pq.write_table(later.add_column(0, "cntr", base["cntr"]), side_path, row_group_size=64)
    ids = sorted(set(base["target_id"].to_pylist()))[:5]
    got = lightcurves.read_matches([str(match_path)], ids, {str(match_path): str(side_path)})
    want = whole.filter(pa.compute.is_in(whole["target_id"], pa.array(ids)))
    assert got.select(list(side)).equals(want.select(list(side)))
    assert not set(columns.LOCATION_COLUMNS) & set(got.column_names)
    # a columns file of other rows is refused, naming both files
    pq.write_table(later.add_column(0, "cntr", pa.array(base["cntr"].to_numpy() + 1)), side_path)
    with pytest.raises(ValueError, match="does not line up with its match file"):
        lightcurves.read_matches([str(match_path)], None, {str(match_path): str(side_path)})
