"""The demo sky is laid out exactly as IRSA's bucket, with every column and its type."""

import csv
from importlib.resources import files

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from neowise_lightcurves import columns, demo, motion, sky


def test_layout_metadata_and_schema(tiny_catalog):
    ds = tiny_catalog / "year1" / "neowiser-healpix_k5-year1.parquet"
    assert (ds / "_metadata").is_file() and (ds / "_common_metadata").is_file()
    leaves = sorted(ds.glob("healpix_k0=*/healpix_k5=*/part*.snappy.parquet"))
    assert len(leaves) >= 10
    for leaf in leaves:
        k0 = int(leaf.parent.parent.name.split("=")[1])
        k5 = int(leaf.parent.name.split("=")[1])
        assert k0 == k5 // 1024
    assert any(p.name == "part1.snappy.parquet" for p in leaves), "one partition has two files"
    common = pq.read_schema(ds / "_common_metadata")
    assert common.names == list(columns.column_names())
    assert len(common.names) == 143
    assert common.field("w1flux").metadata[b"unit"] == b"dn"
    assert b"description" in common.field("cntr").metadata
    # the column list shipped with the package is the dataset's
    rows = list(
        csv.DictReader(
            files("neowise_lightcurves").joinpath("data/columns.tsv").open(), delimiter="\t"
        )
    )
    assert len(rows) == 145
    for r in rows[:-2]:
        assert str(common.field(r["name"]).type) == r["parquet_or_arrow_type_best_guess"]
    # _metadata lists every data file, with paths relative to the dataset
    meta = pq.read_metadata(ds / "_metadata")
    listed = {meta.row_group(i).column(0).file_path for i in range(meta.num_row_groups)}
    assert listed == {str(p.relative_to(ds)) for p in leaves}
    # rows sit in the partition their position says
    from neowise_lightcurves import sky

    for leaf in leaves[:5]:
        t = pq.read_table(leaf, columns=["ra", "dec"])
        k5 = int(leaf.parent.name.split("=")[1])
        assert (sky.partition_of(t["ra"].to_numpy(), t["dec"].to_numpy()) == k5).all()


def test_deterministic_and_realistic():
    sky_ = demo.build_sky(seed=1, field_sources=3)
    a = demo.year_table(sky_, "year1", seed=1)
    b = demo.year_table(demo.build_sky(seed=1, field_sources=3), "year1", seed=1)
    assert a.equals(b)
    df = a.to_pandas()
    assert df["cntr"].is_unique and df["source_id"].is_unique
    assert df["w1flux"].isna().any() and (df["cc_flags"] != "0000").any()
    assert df["w2sigmpro"].isna().sum() > df["w2flux"].isna().sum(), "some W2 upper limits"
    span = df["mjd"].max() - df["mjd"].min()
    assert 150 < span < 365
    assert set(sky_.targets["target_id"]) >= {
        "NCP-1",
        "SCP-1",
        "SEAM-E",
        "SEAM-W",
        "CORNER",
        "EMPTY",
    }
    assert not np.allclose(df["ra"], df["ra"].round(4))


def test_the_mover_changes_no_other_source():
    """MOVER's detections come from a random stream of their own: the other rows are exactly
    those of the sky without it (values and cntr), and MOVER's follow its proper motion."""
    sky_ = demo.build_sky(seed=1, field_sources=3)
    moving = (sky_.sources["pmra"] != 0).to_numpy()
    assert moving.sum() == 1 and moving[-1]  # the last source: the others keep their index
    without = demo.DemoSky(sources=sky_.sources[~moving], targets=sky_.targets)
    for year in ("year1", "year3", "addendum"):
        full = demo.year_table(sky_, year, seed=1).to_pandas()
        ours = full["cntr"] % 10**11 >= 9 * 10**10
        rest = full[~ours].reset_index(drop=True)
        pd.testing.assert_frame_equal(rest, demo.year_table(without, year, seed=1).to_pandas())
        # MOVER's rows lie within 1.2" (0.2" scatter) of its propagated position
        mover = sky_.targets.set_index("target_id").loc["MOVER"]
        rows = full[ours]
        lo, hi = motion.YEAR_MJD[year]  # the range a mover's cone is widened for
        assert full["mjd"].between(lo, hi).all()
        dt = (rows["mjd"].to_numpy() - motion.jyear_to_mjd(mover["pm_epoch"])) / 365.25
        at = motion.propagate(mover["ra"], mover["dec"], mover["pmra"], mover["pmdec"], dt)
        sep = sky.chord_to_arcsec(
            np.linalg.norm(at - sky.unit_vectors(rows["ra"], rows["dec"]), axis=1)
        )
        assert len(rows) >= 5 and sep.max() < 1.2
