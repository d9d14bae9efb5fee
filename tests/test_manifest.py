import numpy as np
import pandas as pd

from neowise_lightcurves import manifest

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


def test_shard_table_round_trip(tmp_path):
    rows = manifest.target_partitions(targets(50), 1.0, 1)
    items = manifest.shards(rows, 1.0, COLS, "demo")
    manifest.write_shards(tmp_path / "s.tsv", items)
    assert manifest.read_shards(tmp_path / "s.tsv") == items


def test_radius_tag():
    assert manifest.radius_tag(1.0) == "1"
    assert manifest.radius_tag(2.5) == "2.5"
