"""Real IRSA rows (tests/data/timewise: timewise's TAP downloads of six objects) in the
catalogue's layouts, and the workflow on them: every real row found once, and visits split where
timewise's own data product splits them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from workflow_helpers import read_sorted, snakemake

from neowise_lightcurves import (
    allwise,
    binning,
    catalog,
    columns,
    motion,
    photometry,
    realrows,
    sky,
)

#: The subset's objects and their rows (NEOWISE, MEP) in timewise's CSVs.
OBJECTS = {
    "AT2019dsg": (242, 26),  # tidal disruption event: variable
    "AT2019fdr": (282, 35),  # a neighbour 5.86" away across the cone's edge (rows to 5.999")
    "AT2019aame": (282, 40),  # faint in W2: half its exposures below SNR 2
    "AT2020aezy": (262, 56),  # a Reject-Table duplicate in the MEP: 28 exposures twice
    "AT2019pev": (1, 0),  # one detection, no W2 flux, no MEP row
    "AT2021aeui": (403, 38),  # constant and bright, with Dec 2013 - mid 2014 rows
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The subset written into both layouts (NEOWISE years 1-11 and the MEP's local copy)."""
    return realrows.write_layouts(realrows.SUBSET, tmp_path_factory.mktemp("realrows"))


def _dataset(path):
    return pads.dataset(path, format="parquet", partitioning="hive", exclude_invalid_files=True)


def test_reads_timewise_files():
    neowise, mep = realrows.read_neowise(realrows.SUBSET), realrows.read_mep(realrows.SUBSET)
    targets = realrows.read_targets(realrows.SUBSET).set_index("orig_id")["target_id"]
    assert set(targets) == set(OBJECTS)
    n = neowise["orig_id"].map(targets).value_counts()
    m = mep["orig_id"].map(targets).value_counts()
    assert {t: (n.get(t, 0), m.get(t, 0)) for t in OBJECTS} == OBJECTS
    # AllWISE ids as written (19 digits: exact as Int64, not rounded through float)
    assert mep["cntr_mf"].dtype == "Int64" and mep["cntr_mf"].min() > 10**17
    visits = realrows.read_data_product(realrows.SUBSET)
    assert visits.groupby("target_id").size().to_dict() == {
        "AT2019aame": 25,
        "AT2019dsg": 23,
        "AT2019fdr": 23,
        "AT2019pev": 1,
        "AT2020aezy": 24,
        "AT2021aeui": 23,
    }
    assert visits["w1_upper_limit"].dtype == bool and visits["w1_n"].dtype == np.int64
    assert visits.groupby("target_id")["mean_mjd"].is_monotonic_increasing.all()


def test_survey_year():
    lo = [motion.YEAR_MJD[f"year{i}"][0] for i in range(1, 12)]
    assert list(realrows.survey_year(lo)) == list(range(1, 12))
    assert list(realrows.survey_year(np.array(lo[1:]) - 1e-6)) == list(range(1, 11))
    with pytest.raises(ValueError, match="outside NEOWISE years"):
        realrows.survey_year([56000.0])


def test_neowise_layout(written):
    """Every real row once, in its year's dataset, with the catalogue's schema and its values."""
    csv = realrows.read_neowise(realrows.SUBSET)
    schema = columns.file_schema()
    found = []
    for year in realrows.YEARS:
        path = written.root / catalog.year_dataset(catalog.year_name(year))
        assert (path / "_common_metadata").exists() and (path / "_metadata").exists()
        data = _dataset(path)
        for name in schema.names:
            assert data.schema.field(name).type == schema.field(name).type, name
        # int64 with nulls (allwise_cntr) as Int64, not through float
        table = data.to_table().to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        assert len(table) == (written.neowise["year"] == year).sum() > 0
        lo, hi = motion.YEAR_MJD[f"year{year}"]
        assert table["mjd"].between(lo, hi).all()
        assert (table["healpix_k5"] == sky.partition_of(table["ra"], table["dec"])).all()
        found.append(table)
    found = pd.concat(found, ignore_index=True)
    assert found["cntr"].is_unique and found["source_id"].is_unique and len(found) == len(csv)
    # the rows' own values, unchanged: matched on (position, time), unique in these rows
    key = ["ra", "dec", "mjd"]
    both = csv.merge(found, on=key, validate="one_to_one")
    assert len(both) == len(csv)
    for name, col in realrows.CSV_COLUMNS.items():
        pd.testing.assert_series_equal(both[name], both[col], check_names=False)
    assert both["allwise_cntr_x"].equals(both["allwise_cntr_y"])
    assert both["allwise_cntr_x"].isna().sum() == 138  # rows without an AllWISE counterpart
    # derived columns as the catalogue has them
    for b in ("w1", "w2"):
        neg = both[f"{b}flux"] < 0
        assert both.loc[neg, f"{b}snr"].isna().all()
        pos = both[f"{b}flux"] >= 0
        np.testing.assert_allclose(
            both.loc[pos, f"{b}snr"], both.loc[pos, f"{b}flux"] / both.loc[pos, f"{b}sigflux"]
        )
    assert (both["w2flux"] < 0).sum() == 17
    assert both["ph_qual"].str.len().eq(2).all()
    assert (both.loc[both["w2flux"].isna(), "ph_qual"].str[1] == "X").all()
    assert ((both["cc_flags"] == "0000") & (both["qual_frame"] == 10) & (both["nb"] == 1)).all()


def test_mep_layout(written):
    csv = realrows.read_mep(realrows.SUBSET)
    data = _dataset(written.root / catalog.ALLWISE_DATASET)
    schema = allwise.mep_schema()
    for name in schema.names:
        assert data.schema.field(name).type == schema.field(name).type, name
    table = data.to_table().to_pandas()
    assert len(table) == len(csv) and table["cntr"].is_unique
    both = csv.merge(table, on=["cntr_mf", "mjd"], validate="one_to_one")
    assert len(both) == len(csv)
    for name, col in realrows.CSV_COLUMNS.items():
        pd.testing.assert_series_equal(both[f"{name}_ep"], both[col], check_names=False)
    assert (both["ra_x"] == both["ra_y"]).all()
    assert both["source_id_mf"].str.match(r"^\d{4}[pm]\d{3}_ac51-\d{6}$").all()
    targets = pd.read_csv(written.targets_path)
    assert list(targets.columns) == ["target_id", "ra", "dec", "orig_id"]
    assert set(targets["target_id"]) == set(OBJECTS)


def _run(root_written, workdir):
    """One workflow run on the real rows: 6", no cuts, years 1-11 and the MEP's local copy, in
    stages (one_job: auto would run these few targets in one job, which
    test_one_job_same_outputs_and_caches holds to the same outputs)."""
    config = realrows.workflow_config(
        root_written, match={"threads": 1}, plots={"top_n": 1}, one_job=False
    )
    snakemake(workdir, config)
    return workdir / "results"


def _separation_arcsec(ra1, dec1, ra2, dec2):
    v1, v2 = sky.unit_vectors(ra1, dec1), sky.unit_vectors(ra2, dec2)
    return sky.chord_to_arcsec(np.linalg.norm(v1 - v2, axis=1))


@pytest.mark.workflow
def test_workflow_on_real_rows(written, tmp_path, capsys):
    """One Snakemake run (one test, so that pytest-xdist's workers do not each run it): every
    real row found once (:func:`_check_every_row_once`), visits split as timewise splits them
    (:func:`_check_visits_as_timewise`); benchmarks/timewise_compare.py's tables of it."""
    results = _run(written, tmp_path)
    lc, binned = read_sorted(results, "lightcurves"), read_sorted(results, "binned")
    _check_every_row_once(written, lc)
    _check_visits_as_timewise(binned)
    _check_zero_points_as_measured(lc)
    _check_no_step_the_magnitudes_lack(lc, binned)
    _check_flux_densities_as_timewise(binned)
    _check_timewise_compare(results, capsys)


def _check_timewise_compare(results, capsys):
    """benchmarks/timewise_compare.py on this run (its smoke test): every visit paired, a row
    per band and survey."""
    import timewise_compare  # benchmarks/ is on pytest's pythonpath

    capsys.readouterr()
    pairs = timewise_compare.main(["--results", str(results)])
    out = capsys.readouterr().out
    assert pairs["paired"].all() and "Every visit paired." in out
    for row in ("| W1 | NEOWISE |", "| W1 | MEP |", "| W2 | NEOWISE |", "| W2 | MEP |"):
        assert row in out


def _check_every_row_once(written, lc):
    by_id = written.targets.set_index("orig_id")["target_id"]
    # NEOWISE: each row IRSA returned within 6" of an object, exactly once, and no other
    neo = lc[lc["year"] != "allwise"]
    assert not neo.duplicated(["target_id", "cntr"]).any()
    want = set(zip(written.neowise["orig_id"].map(by_id), written.neowise["cntr"], strict=True))
    assert set(zip(neo["target_id"], neo["cntr"], strict=True)) == want
    assert len(neo) == len(want) == 1472
    # the MEP: each exposure of each object once; of a source and its Reject-Table duplicate
    # (AT2020aezy, 0.02" apart, every exposure twice) the entry nearer the target
    mep = lc[lc["year"] == "allwise"]
    assert not mep.duplicated(["target_id", "mjd"]).any()
    rows = written.mep.assign(target_id=written.mep["orig_id"].map(by_id))
    pos = written.targets.set_index("target_id").loc[rows["target_id"]]
    rows["sep"] = _separation_arcsec(rows["ra"], rows["dec"], pos["ra"], pos["dec"])
    nearest = rows.sort_values("sep", kind="stable").drop_duplicates(["target_id", "mjd"])
    assert set(zip(mep["target_id"], -mep["cntr"], strict=True)) == set(
        zip(nearest["target_id"], nearest["cntr"], strict=True)
    )
    counts = mep.groupby("target_id").size().to_dict()
    assert counts == {t: m for t, (_, m) in OBJECTS.items() if m} | {"AT2020aezy": 28}
    # the cone's edge: AT2019fdr's neighbour's rows reach 5.999" from its position, all found
    fdr = neo[neo["target_id"] == "AT2019fdr"]
    assert fdr["dist_arcsec"].max() > 5.99 and len(fdr) == OBJECTS["AT2019fdr"][0]


def _check_visits_as_timewise(ours):
    """The same visits per object as timewise's data product, at the same mean times."""
    theirs = realrows.read_data_product(realrows.SUBSET)
    pairs = realrows.pair_visits(ours, theirs)
    assert pairs["paired"].all(), pairs.loc[~pairs["paired"], ["target_id", "mjd_ours"]]
    assert (ours.groupby("target_id").size() == theirs.groupby("target_id").size()).all()
    assert pairs["dmjd"].abs().max() < 1e-6
    # the 2010 visits (MEP) are there, every object with MEP rows has them
    assert (pairs.loc[pairs["mjd_ours"] < 56000, "target_id"].nunique()) == 5


def _measured(lc, b):
    """Exposures with a positive flux and a measured (not upper-limit) magnitude."""
    return (lc[f"{b}flux"] > 0) & lc[f"{b}sigmpro"].notna() & lc[f"{b}mpro"].notna()


def _check_zero_points_as_measured(lc):
    for b in ("w1", "w2"):
        ok = _measured(lc, b)
        own = lc.loc[ok, f"{b}mpro"] + 2.5 * np.log10(lc.loc[ok, f"{b}flux"])
        np.testing.assert_allclose(lc.loc[ok, f"{b}zp"], own, rtol=1e-12)
        # a measured exposure's flux density is its magnitude's (to the 0.001 mag rounding)
        np.testing.assert_allclose(
            lc.loc[ok, f"{b}flux_mjy"],
            photometry.mag_to_mjy(lc.loc[ok, f"{b}mpro"], b),
            rtol=0.0005 * np.log(10) / 2.5 * 1.001,
        )
        # the calibration periods' zero points, as measured on these real rows (the table
        # comes from all 63 objects): within 0.001 mag wherever the subset has 20 exposures
        checked = 0
        for start, end, value in photometry.period_ranges(b):
            zp = lc.loc[ok & lc["mjd"].between(start, end, inclusive="left"), f"{b}zp"]
            if len(zp) >= 20:
                assert abs(zp.median() - value) < 0.001, (b, start, zp.median(), value)
                checked += 1
        assert checked >= 5
        # the MEP's, 20.5 and 19.5, and NEOWISE's from mid 2017 on, 20.761 and 19.6435
        mep = lc.loc[ok & (lc["year"] == "allwise"), f"{b}zp"]
        late = lc.loc[ok & (lc["mjd"] > 58000), f"{b}zp"]
        assert mep.median() == pytest.approx({"w1": 20.5, "w2": 19.5}[b], abs=2e-4)
        assert late.median() == pytest.approx({"w1": 20.761, "w2": 19.6435}[b], abs=3e-4)
        # exposures without a zero point of their own (upper limits, negative fluxes) take
        # their visit's median: never the period's constant where the visit has measured ones
        visits, _ = binning.epochs(lc["target_id"], lc["mjd"], 30.0)
        median = pd.Series(np.where(ok, lc[f"{b}zp"], np.nan)).groupby(visits).median()
        visit_zp = median.to_numpy()[visits]
        fill = (~ok & np.isfinite(visit_zp)).to_numpy()
        assert fill.sum() >= 10  # limits and negative fluxes (13 in W1, more in W2)
        np.testing.assert_allclose(lc.loc[fill, f"{b}zp"], visit_zp[fill], rtol=1e-12)


def _check_no_step_the_magnitudes_lack(lc, binned):
    """Each visit's binned flux density against the median flux density of its exposures'
    catalogue magnitudes (one Vega scale from 2010 to 2024), in every visit whose exposures are
    all measured: equal within the binned error (the clipping may leave a few out), and equal
    on average (median ratio within 0.1 %) before 2012 (the MEP), in Dec 2013 - mid 2014 and
    from 2015 on, so no step that the magnitudes do not have."""
    groups, _ = binning.epochs(lc["target_id"], lc["mjd"], 30.0)
    lc = lc.assign(_visit=groups)
    for b in ("w1", "w2"):
        ok = _measured(lc, b)
        all_ok = (ok.groupby(lc["_visit"]).all() & (lc.groupby("_visit").size() >= 3)).to_numpy()
        from_mag = pd.Series(photometry.mag_to_mjy(lc[f"{b}mpro"], b)).groupby(lc["_visit"])
        from_mag = from_mag.median().to_numpy()[all_ok]
        flux = binned[f"{b}_flux_mjy"].to_numpy()[all_ok]
        err = binned[f"{b}_flux_err_mjy"].to_numpy()[all_ok]
        assert len(flux) > 60
        assert (np.abs(flux - from_mag) < err).all(), b
        when = binned["mjd"].to_numpy()[all_ok]
        for part in (when < 56000, (when > 56639) & (when < 56850), when > 57300):
            assert part.sum() >= 3
            assert abs(np.median(flux[part] / from_mag[part]) - 1) < 0.001, b


def _check_flux_densities_as_timewise(binned):
    """timewise's flux densities (each exposure's zero point, median per visit) agree with ours
    on the same rows: the median per-visit ratio within 0.5 % in both bands, NEOWISE and the
    MEP apart (visits either side calls a limit left out), and NEOWISE's and the MEP's within
    0.5 % of each other."""
    pairs = realrows.pair_visits(binned, realrows.read_data_product(realrows.SUBSET))
    mep = pairs["mjd_ours"] < 56000
    for b in ("w1", "w2"):
        ok = ~pairs[f"{b}_upper_limit_ours"].astype(bool) & ~pairs[
            f"{b}_upper_limit_theirs"
        ].astype(bool)
        ratio = pairs[f"{b}_flux_mjy_ours"] / pairs[f"{b}_flux_mjy_theirs"] - 1
        medians = [ratio[ok & part].median() for part in (~mep, mep)]
        assert all(abs(m) < 0.005 for m in medians), (b, medians)
        assert abs(medians[0] - medians[1]) < 0.005
