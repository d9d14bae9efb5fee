import numpy as np
import pandas as pd
import pytest

from neowise_lightcurves import manifest, sky

COLS = ("ra", "dec")


def targets(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "target_id": [f"t{i}" for i in range(n)],
            "ra": rng.uniform(0, 360, n),
            "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
        }
    )


def plan(t, radius=1.0, order=2, key="demo"):
    rows = manifest.target_partitions(t, radius, order)
    return {s.shard: s.digest for s in manifest.shards(rows, radius, COLS, key)}, rows


def test_every_partition_in_its_shard():
    _, rows = plan(targets())
    order, _ = manifest.parse_shard(rows["shard"].iloc[0])
    for k5, shard in zip(rows["k5"], rows["shard"], strict=True):
        assert manifest.parse_shard(shard) == (order, k5 >> (2 * (5 - order)))


def test_digest_changes_only_for_touched_shards():
    t = targets()
    before, _ = plan(t)
    moved = t.copy()
    moved.loc[5, "ra"] = (moved.loc[5, "ra"] + 40) % 360
    added = pd.concat([t, pd.DataFrame({"target_id": ["new"], "ra": [12.0], "dec": [3.0]})])
    _, rows_before = plan(t)
    for changed, tid in ((moved, "t5"), (added, "new")):
        after, rows_after = plan(changed)
        differing = {s for s in set(before) | set(after) if before.get(s) != after.get(s)}
        touched = set(rows_before.loc[rows_before["target_id"] == tid, "shard"]) | set(
            rows_after.loc[rows_after["target_id"] == tid, "shard"]
        )
        assert differing == touched
        assert 1 <= len(differing) < len(after) / 10
    # row order of the target list does not matter
    assert plan(t.sample(frac=1, random_state=1))[0] == before


def test_digest_depends_on_radius_columns_and_catalogue():
    t = targets(20)
    base = plan(t)[0]
    rows = manifest.target_partitions(t, 1.0, 2)
    assert {s.shard: s.digest for s in manifest.shards(rows, 1.0, ("ra",), "demo")} != base
    assert plan(t, key="s3://elsewhere")[0] != base
    assert plan(t, radius=2.0)[0] != base


def test_shard_and_group_tables_round_trip(tmp_path):
    rows = manifest.target_partitions(targets(50), 1.0, 1)
    items = manifest.shards(rows, 1.0, COLS, "demo")
    manifest.write_shards(tmp_path / "s.tsv", items)
    assert manifest.read_shards(tmp_path / "s.tsv") == items
    groups = manifest.groups(rows)
    manifest.write_groups(tmp_path / "g.tsv", groups)
    assert manifest.read_groups(tmp_path / "g.tsv") == groups


def test_radius_tag():
    assert manifest.radius_tag(1.0) == "1"
    assert manifest.radius_tag(2.5) == "2.5"


def dense_field(n=6000, seed=3):
    """``n`` targets in ~30 deg^2 near (150, 2), with a cluster of 1,500 in 0.1 deg^2."""
    rng = np.random.default_rng(seed)
    ra = np.r_[rng.uniform(147, 153, n - 1500), rng.uniform(150.0, 150.3, 1500)]
    dec = np.r_[rng.uniform(-0.5, 4.5, n - 1500), rng.uniform(2.0, 2.3, 1500)]
    return pd.DataFrame({"target_id": [f"d{i}" for i in range(n)], "ra": ra, "dec": dec})


@pytest.mark.parametrize("bound", [1, 50, 700, 10**9])
def test_adaptive_shards_split_dense_pixels_and_cover_every_partition(bound):
    t = dense_field()
    fixed = manifest.target_partitions(t, 10.0, 2)
    rows = manifest.target_partitions(t, 10.0, 2, max_shard_targets=bound)
    # the same (target, partition) rows, each in one shard that holds its partition
    pd.testing.assert_frame_equal(
        fixed[["target_id", "k5", "home"]].sort_values(["target_id", "k5"], ignore_index=True),
        rows[["target_id", "k5", "home"]].sort_values(["target_id", "k5"], ignore_index=True),
    )
    for k5, shard in zip(rows["k5"], rows["shard"], strict=True):
        order, pixel = manifest.parse_shard(shard)
        assert 2 <= order <= 5 and pixel == k5 >> (2 * (5 - order))
    # shards do not overlap: each partition is in one shard
    assert (rows.groupby("k5")["shard"].nunique() == 1).all()
    per_shard = rows.groupby("shard")["target_id"].nunique()
    orders = per_shard.index.map(lambda s: manifest.parse_shard(s)[0])
    assert (per_shard[orders < 5] <= bound).all()
    # a shard was split only where it had to be: its parent held too many
    for shard in per_shard.index:
        order, pixel = manifest.parse_shard(shard)
        if order > 2:
            parent = (rows["k5"].to_numpy() >> (2 * (5 - (order - 1)))) == pixel >> 2
            assert rows.loc[parent, "target_id"].nunique() > bound
    if bound == 10**9:
        assert set(rows["shard"]) == set(fixed["shard"])


def test_every_target_has_one_home_and_one_group_that_reads_its_shards():
    t = dense_field(3000)
    rows = manifest.target_partitions(t, 30.0, 2, max_shard_targets=40)
    homes = rows[rows["home"]]
    assert homes["target_id"].is_unique and len(homes) == len(t)
    # the home partition holds the target's position
    want = sky.partition_of(t["ra"].to_numpy(), t["dec"].to_numpy())
    got = homes.set_index("target_id").loc[t["target_id"], "k5"].to_numpy()
    np.testing.assert_array_equal(got, want)
    # one group per target, the pixel holding its home partition, at most 40 targets above
    # order 5, split only where its parent held more
    assert (rows.groupby("target_id")["group"].nunique() == 1).all()
    groups = {g.group: g for g in manifest.groups(rows)}
    assert sum(g.n_targets for g in groups.values()) == len(t)
    for name, g in groups.items():
        order, pixel = manifest.parse_shard(name)
        mine = homes[homes["group"] == name]
        assert (mine["k5"].to_numpy() >> (2 * (5 - order)) == pixel).all()
        assert len(mine) == g.n_targets and (g.n_targets <= 40 or order == 5)
        if order > 0:
            parent = (homes["k5"].to_numpy() >> (2 * (5 - (order - 1)))) == pixel >> 2
            assert parent.sum() > 40
        # a group reads the caches of every shard its targets' cones touch, and no more
        touched = rows.loc[rows["target_id"].isin(mine["target_id"]), "shard"]
        assert set(g.reads) == set(touched)
    assert any(len(g.reads) > 1 for g in groups.values())  # 30" cones cross shard edges


def test_a_sparse_sample_makes_few_groups():
    rows = manifest.target_partitions(targets(2000), 1.0, 2, max_shard_targets=20000)
    groups = manifest.groups(rows)
    assert [g.group for g in groups] == ["sky"] and groups[0].n_targets == 2000
    assert rows["shard"].nunique() > 150  # while the shards stay at order 2
    # a group of more targets than the bound is split: the sky into its 12 order-0 pixels
    rows = manifest.target_partitions(targets(2000), 1.0, 2, max_shard_targets=1000)
    groups = manifest.groups(rows)
    assert len(groups) == 12 and {manifest.parse_shard(g.group)[0] for g in groups} == {0}


def test_a_sparse_sample_makes_few_shards_bounded_in_partitions():
    """From the whole sky, a shard is split where it holds more partitions than the bound, so
    2,000 targets over the sky (~2,000 partitions) make a few dozen shards, none over it."""
    t = targets(2000)
    rows = manifest.target_partitions(t, 1.0, -1, 20000, max_shard_partitions=256)
    per_shard = rows.groupby("shard")["k5"].nunique()
    assert per_shard.max() <= 256 and 8 <= len(per_shard) <= 60
    assert set(rows.groupby("target_id")["shard"].nunique()) <= {1, 2}
    # the whole sky, one shard, when the bound allows it
    rows = manifest.target_partitions(t.iloc[:24], 1.0, -1, 20000, max_shard_partitions=256)
    assert set(rows["shard"]) == {"sky"} and manifest.parse_shard("sky") == (-1, 0)
    # every touched partition in exactly one shard, whatever the bound
    for bound in (1, 7, 100, None):
        rows = manifest.target_partitions(t, 1.0, -1, 20000, max_shard_partitions=bound)
        assert (rows.groupby("k5")["shard"].nunique() == 1).all()
        if bound is not None:
            over = rows.groupby("shard")["k5"].nunique()
            big = [s for s in over.index if manifest.parse_shard(s)[0] < 5]
            assert (over[big] <= bound).all()


def test_a_shard_only_a_neighbour_reaches_is_read_by_the_group():
    import hpgeom

    # a target 1" inside the edge of an order-2 pixel: its 30" cone reaches the next pixel
    ra, dec = hpgeom.boundaries(4, int(hpgeom.angle_to_pixel(4, 150.0, 2.0)), step=2)
    mid_ra, mid_dec = (ra[0] + ra[1]) / 2, (dec[0] + dec[1]) / 2
    t = pd.DataFrame({"target_id": ["edge"], "ra": [mid_ra], "dec": [mid_dec]})
    c_ra, c_dec = hpgeom.pixel_to_angle(4, int(hpgeom.angle_to_pixel(4, mid_ra, mid_dec)))
    step = 1 / 3600 / np.hypot(c_ra - mid_ra, c_dec - mid_dec)
    t["ra"], t["dec"] = mid_ra + (c_ra - mid_ra) * step, mid_dec + (c_dec - mid_dec) * step
    rows = manifest.target_partitions(t, 30.0, 2)
    items = {s.shard: s for s in manifest.shards(rows, 30.0, COLS, "demo")}
    (group,) = manifest.groups(rows)
    assert len(items) == 2 and group.reads == tuple(sorted(items)) and group.n_targets == 1


def test_plan_names_the_jobs():
    rows = manifest.target_partitions(dense_field(2000), 1.0, 2, max_shard_targets=100)
    items = manifest.shards(rows, 1.0, COLS, "demo")
    groups = manifest.groups(rows)
    text = manifest.plan_text(items, groups, 2000, ["year1", "year2"], 2)
    assert f"match jobs:              {2 * len(items)} ({len(items)} per year x 2 years)" in text
    assert f"light-curve jobs:        {len(groups)} (one per group of targets)" in text
    assert "shards (order 2-5):" in text or "shards (order 3-5):" in text


def test_a_changed_manifest_is_caught_by_the_job():
    rows = manifest.target_partitions(targets(20), 1.0, 2)
    (s, *_) = manifest.shards(rows, 1.0, COLS, "demo")
    mine = rows[rows["shard"] == s.shard]
    manifest.check_digest(mine, s.shard, s.digest, 1.0, COLS, "demo")
    with pytest.raises(RuntimeError, match=f"shard {s.shard}: .*rerun the workflow"):
        manifest.check_digest(mine.iloc[1:], s.shard, s.digest, 1.0, COLS, "demo")
