"""The demo sky is laid out exactly as IRSA's bucket, with every column and its type."""

import csv
from importlib.resources import files

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from neowise_lightcurves import allwise, catalog, columns, demo, motion, sky


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


@pytest.fixture(scope="module")
def mep():
    """The demo sky with 3 field stars per region and its MEP copy (a DataFrame)."""
    sky_ = demo.build_sky(seed=1, field_sources=3)
    return sky_, demo.mep_table(sky_, seed=1).to_pandas()


def _deep_sources(df):
    """One row per ``cntr_mf``: its positions (unique count and first) and its set of times."""
    return df.groupby("cntr_mf").agg(
        n_pos=("ra", lambda r: len(set(zip(r, df.loc[r.index, "dec"], strict=True)))),
        ra=("ra", "first"),
        dec=("dec", "first"),
        mjd=("mjd", lambda t: frozenset(t)),
    )


def _sep_arcsec(ra, dec, ra0, dec0):
    return sky.chord_to_arcsec(
        np.linalg.norm(sky.unit_vectors(ra, dec) - sky.unit_vectors(ra0, dec0), axis=1)
    )


def _nearest(deep, ra0, dec0):
    """The ``cntr_mf`` nearest (ra0, dec0) and its separation (arcsec)."""
    sep = _sep_arcsec(deep["ra"], deep["dec"], ra0, dec0)
    return deep.index[np.argmin(sep)], sep.min()


def _source_position(sky_, target_id, mjd=None):
    """The true position of a target's source (the nearest source; a moving one at ``mjd``)."""
    t = sky_.targets.set_index("target_id").loc[target_id]
    s = sky_.sources.iloc[
        np.argmin(_sep_arcsec(sky_.sources["ra"], sky_.sources["dec"], *t[["ra", "dec"]]))
    ]
    if s["pmra"] == 0 and s["pmdec"] == 0:
        return s["ra"], s["dec"]
    dt = (mjd - motion.jyear_to_mjd(t["pm_epoch"])) / motion.DAYS_PER_JULIAN_YEAR
    (ra,), (dec,) = motion.to_radec(motion.propagate(s["ra"], s["dec"], s["pmra"], s["pmdec"], dt))
    return ra, dec


def test_mep_schema_and_deterministic(mep):
    sky_, df = mep
    table = demo.mep_table(sky_, seed=1)
    assert table.drop_columns(["healpix_k5"]).schema.equals(allwise.mep_schema())
    assert table.equals(demo.mep_table(demo.build_sky(seed=1, field_sources=3), seed=1))
    assert not table.equals(demo.mep_table(sky_, seed=2))


def test_mep_targets_in_range_at_their_source_position(mep):
    """Every row lies in the MEP's MJD range; a source's rows all have one position, its own
    (the mover's at AllWISE's epoch)."""
    sky_, df = mep
    lo, hi = allwise.MJD_RANGE
    assert df["mjd"].between(lo, hi).all()
    assert (df["cntr_mf"] < 10**13).all() and (df["cntr_mf"] > 2 * 10**12).all()
    deep = _deep_sources(df)
    assert (deep["n_pos"] == 1).all()
    targets = sky_.targets[sky_.targets["kind"] != "none"]
    assert len(targets) > 30
    for tid in targets["target_id"]:
        ra, dec = _source_position(sky_, tid, mjd=allwise.EPOCH_MJD)
        cntr, sep = _nearest(deep, ra, dec)
        assert sep < 0.001, tid  # positions are written to 1e-7 deg (0.36 mas)
        assert len(deep.loc[cntr, "mjd"]) >= 10, tid


@pytest.mark.parametrize("target_id", ["NCP-1", "CORNER", "STAR-B03"])
def test_mep_constant_target_matches_neowise(mep, target_id):
    """A constant source's median W1 and W2 in the MEP are its NEOWISE year-1 medians within
    5 standard errors of the difference (a median's: 1.2533 sigma / sqrt(n), sigma the rows'
    median magnitude uncertainty)."""
    sky_, df = mep
    assert (sky_.targets.set_index("target_id").loc[target_id, "kind"]) == "constant"
    ra, dec = _source_position(sky_, target_id)
    cntr, _ = _nearest(_deep_sources(df), ra, dec)
    ours = df[df["cntr_mf"] == cntr]
    year1 = demo.detections(sky_, "year1", seed=1)
    theirs = year1[_sep_arcsec(year1["ra"], year1["dec"], ra, dec) < 1.0]
    for band in ("w1", "w2"):
        a = ours.dropna(subset=[f"{band}sigmpro_ep"])
        b = theirs.dropna(subset=[f"{band}sigmpro"])
        assert len(a) >= 10 and len(b) >= 10
        se = np.hypot(
            1.2533 * a[f"{band}sigmpro_ep"].median() / np.sqrt(len(a)),
            1.2533 * b[f"{band}sigmpro"].median() / np.sqrt(len(b)),
        )
        diff = a[f"{band}mpro_ep"].median() - b[f"{band}mpro"].median()
        assert abs(diff) < 5 * se, (band, diff, se)


def test_mep_photometry_consistent(mep):
    _, df = mep
    for band in ("w1", "w2"):
        det = df[df[f"{band}sigmpro_ep"].notna()]
        zp = {"w1": 20.5, "w2": 19.5}[band]  # the real MEP's
        np.testing.assert_allclose(
            det[f"{band}mpro_ep"], zp - 2.5 * np.log10(det[f"{band}flux_ep"]), atol=1e-9
        )
        np.testing.assert_allclose(
            det[f"{band}sigmpro_ep"],
            1.0857 * det[f"{band}sigflux_ep"] / det[f"{band}flux_ep"],
            rtol=1e-9,
        )
    assert (df["w2sigmpro_ep"].isna() & df["w2mpro_ep"].notna()).any(), "some W2 upper limits"


def test_mep_planted_duplicates(mep):
    """The Reject-Table duplicates: a second cntr_mf within 0.5" measured on the same
    exposures; and one exposure row repeated exactly (no other row is)."""
    sky_, df = mep
    deep = _deep_sources(df)
    for tid in demo.MEP_REJECT_DUPLICATES:
        ra, dec = _source_position(sky_, tid)
        cntr, _ = _nearest(deep, ra, dec)
        sep = _sep_arcsec(deep["ra"], deep["dec"], deep.loc[cntr, "ra"], deep.loc[cntr, "dec"])
        close = deep[(sep < 0.5) & (deep.index != cntr)]
        assert len(close) == 1, tid
        assert close["mjd"].iloc[0] == deep.loc[cntr, "mjd"], tid
        dup = df[df["cntr_mf"] == close.index[0]]
        assert dup["source_id_mf"].nunique() == 1
        assert dup["source_id_mf"].iloc[0] != df.loc[df["cntr_mf"] == cntr, "source_id_mf"].iloc[0]
        mine = df[df["cntr_mf"] == cntr].sort_values("mjd")
        assert not np.allclose(
            dup.sort_values("mjd")["w1flux_ep"], mine["w1flux_ep"], equal_nan=True
        ), "fresh noise"
    # no other source has a neighbour within 0.5"
    pairs = sum(
        ((_sep_arcsec(deep["ra"], deep["dec"], r, d) < 0.5).sum() - 1)
        for r, d in zip(deep["ra"], deep["dec"], strict=True)
    )
    assert pairs == 2 * len(demo.MEP_REJECT_DUPLICATES)
    repeated = df[df.duplicated(keep=False)]
    assert len(repeated) == 2
    cntr, _ = _nearest(deep, *_source_position(sky_, demo.MEP_REPEATED_ROW))
    assert (repeated["cntr_mf"] == cntr).all()


def test_mep_written_in_the_catalogue_layout(tmp_path):
    """The copy is a hive dataset in the years' layout, readable partition by partition; the
    years written beside it stay as they were."""
    year = demo.write_year(tmp_path, "year1", seed=1, field_sources=3)
    before = pq.read_table(year)
    path = demo.write_allwise(tmp_path, seed=1, field_sources=3)
    assert path == tmp_path / catalog.ALLWISE_DATASET
    assert pq.read_table(year).equals(before)
    assert (path / "_metadata").is_file()
    assert pq.read_schema(path / "_common_metadata").equals(allwise.mep_schema())
    table = demo.mep_table(demo.build_sky(seed=1, field_sources=3), seed=1)
    read = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    assert read.num_rows == table.num_rows
    assert read.drop_columns(["healpix_k0", "healpix_k5"]).schema.equals(allwise.mep_schema())
    cat = catalog.open_catalog(str(tmp_path))
    k5s = np.unique(table["healpix_k5"].to_numpy())
    assert len(k5s) >= 10
    n = 0
    for k5 in k5s:
        files = cat.partition_files("allwise", int(k5))
        assert files
        part = pa.concat_tables(pq.read_table(f.path) for f in files)
        assert part.schema.equals(allwise.mep_schema())
        assert (sky.partition_of(part["ra"].to_numpy(), part["dec"].to_numpy()) == k5).all()
        n += part.num_rows
    assert n == table.num_rows
