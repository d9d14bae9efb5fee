"""Association diagnostics: offsets against astropy, at the poles and across RA 0/360; robust
scatter, flag fractions and the second-source test against known answers; clean synthetic
targets never flagged, planted neighbours found."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord
from conftest import DEFAULT_BINNING, DEFAULTS, calibrated

from neowise_lightcurves import association, binning, summary, target_files

OPTIONS = DEFAULTS["association"]


def offset_positions(ra, dec, east, north):
    """Positions at tangent-plane offsets (arcsec) from (ra, dec), by astropy (its sky-offset
    frame; equal to the gnomonic plane to ~1e-11 relative at arcsec offsets)."""
    ref = SkyCoord(ra * u.deg, dec * u.deg)
    frame = ref.skyoffset_frame()
    p = SkyCoord(lon=east * u.arcsec, lat=north * u.arcsec, frame=frame).icrs
    return p.ra.deg, p.dec.deg


def test_offsets_equal_astropy_everywhere_including_poles_and_seam():
    rng = np.random.default_rng(3)
    n = 400
    ref_ra = np.concatenate([rng.uniform(0, 360, n - 8), [0, 359.9999, 0.0001, 123, 0, 45, 0, 7]])
    ref_dec = np.concatenate(
        [np.degrees(np.arcsin(rng.uniform(-1, 1, n - 8))), [0, 0, 12, 90, -90, 89.9999, 90, -90]]
    )
    ra, dec = offset_positions(ref_ra, ref_dec, rng.normal(0, 3, n), rng.normal(0, 3, n))
    east, north = association.tangent_offsets(ra, dec, ref_ra, ref_dec)
    want_e, want_n = SkyCoord(ref_ra * u.deg, ref_dec * u.deg).spherical_offsets_to(
        SkyCoord(ra * u.deg, dec * u.deg)
    )
    assert np.allclose(east, want_e.to_value(u.arcsec), atol=1e-6)
    assert np.allclose(north, want_n.to_value(u.arcsec), atol=1e-6)
    sep = SkyCoord(ref_ra * u.deg, ref_dec * u.deg).separation(SkyCoord(ra * u.deg, dec * u.deg))
    assert np.allclose(np.hypot(east, north), sep.to_value(u.arcsec), atol=1e-6)


def test_offsets_known_answers():
    # across RA 0: 0.0002 deg of RA on the equator, eastwards
    east, north = association.tangent_offsets([0.0001], [0.0], [359.9999], [0.0])
    assert east[0] == pytest.approx(0.72, abs=1e-9) and north[0] == pytest.approx(0, abs=1e-9)
    east, north = association.tangent_offsets([359.9999], [0.0], [0.0001], [0.0])
    assert east[0] == pytest.approx(-0.72, abs=1e-9)
    # at 60 deg: an RA step is shrunk by cos(dec)
    east, _ = association.tangent_offsets([10.001], [60.0], [10.0], [60.0])
    assert east[0] == pytest.approx(3.6 * 0.5, rel=1e-6)
    # at the north pole, 1" down the RA = 0 meridian: north points along ref_ra + 180
    east, north = association.tangent_offsets([0.0], [90 - 1 / 3600], [180.0], [90.0])
    assert north[0] == pytest.approx(1.0, abs=1e-9) and east[0] == pytest.approx(0, abs=1e-9)
    # the same detection from a reference at any RA keeps its distance from the pole
    for ref_ra in (0.0, 90.0, 271.3):
        east, north = association.tangent_offsets([33.0], [90 - 2 / 3600], [ref_ra], [90.0])
        assert np.hypot(east, north)[0] == pytest.approx(2.0, abs=1e-9)
    # 90 deg or more away: no tangent-plane offset
    east, north = association.tangent_offsets([100.0, 180.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0])
    assert np.isnan(east).all() and np.isnan(north).all()


def test_robust_scatter_known_answers():
    # east -1, 0, 1, north 0: distances 1, 0, 1 from the median position, median 1
    s = association.robust_scatter(np.array([-1.0, 0, 1]), np.zeros(3), np.zeros(3, int))
    assert s.iloc[0] == pytest.approx(1 / np.sqrt(2 * np.log(2)))
    # (3, 4) and the origin thrice: median position the origin, distances 0, 0, 0, 5
    s = association.robust_scatter(
        np.array([3.0, 0, 0, 0, 0]), np.array([4.0, 0, 0, 0, 1]), np.zeros(5, int)
    )
    assert s.iloc[0] == pytest.approx(0.0)
    # a single detection has no scatter; a Gaussian cloud of 0.3" gives 0.3"
    rng = np.random.default_rng(0)
    e, n = rng.normal(0, 0.3, 20000), rng.normal(0, 0.3, 20000)
    groups = np.r_[np.zeros(1, int), np.ones(20000 - 1, int)]
    s = association.robust_scatter(e, n, groups)
    assert np.isnan(s.loc[0]) and s.loc[1] == pytest.approx(0.3, rel=0.03)


def test_centroid_scatter_is_the_same_at_the_pole_the_seam_and_the_equator():
    rng = np.random.default_rng(1)
    e, n = rng.normal(0, 0.4, 50), rng.normal(0, 0.4, 50)
    got = []
    for ra, dec in ((0.0, 90.0), (0.0, 0.0), (359.99995, -30.0), (10.0, -89.99995)):
        pra, pdec = offset_positions(np.full(50, ra), np.full(50, dec), e, n)
        got.append(association.centroid_scatter(pra, pdec, np.zeros(50, int))[0])
    # the gnomonic plane at each centroid: the same cloud, rotated at most
    want = association.robust_scatter(e - np.median(e), n - np.median(n), np.zeros(50, int))
    assert got[1] == pytest.approx(want.iloc[0], rel=0.05)
    # (the axes turn at the poles: only the median centre, coordinate by coordinate, turns with
    # them; 50 points)
    assert np.allclose(got, got[1], rtol=0.05)


def test_flag_fractions_count_each_detection_once():
    matches = pd.DataFrame(
        {
            "target_id": ["a", "a", "a", "a", "b", "b", "c"],
            "cntr": [1, 1, 2, 3, 4, 5, 6],  # a's cntr 1 twice (two shards' caches)
            "nb": [2, 2, 1, 1, 1, 1, 1],
            "na": [0, 0, 0, 1, 0, 0, 0],
            "cc_flags": ["0000", "0000", "d000", "0000", None, "00h0", "0000"],
        }
    )
    got = association.flag_fractions(matches, ["a", "b"])
    assert list(got.index) == ["a", "b"]
    assert got.loc["a", "frac_blended"] == pytest.approx(2 / 3)  # nb > 1; na > 0
    assert got.loc["a", "frac_contaminated"] == pytest.approx(1 / 3)
    assert got.loc["b", "frac_blended"] == 0 and got.loc["b", "frac_contaminated"] == 1.0


def realistic(rng, n, sigma, neighbour_arcsec=0.0, fraction=0.0):
    """Offsets (arcsec) of n detections: per-detection scatter log-normal about ``sigma`` (30 %),
    3 % outliers at 4x, a mild anisotropy; a share ``fraction`` of them from a neighbour at
    ``neighbour_arcsec`` in a random direction."""
    s = sigma * np.exp(rng.normal(0, 0.3, n))
    axis = rng.uniform(1, 1.3)
    x, y = rng.normal(0, 1, n) * s * axis, rng.normal(0, 1, n) * s / axis
    out = rng.random(n) < 0.03
    x[out] *= 4
    y[out] *= 4
    pa = rng.uniform(0, 2 * np.pi)
    near = rng.random(n) < fraction
    x[near] += neighbour_arcsec * np.sin(pa)
    y[near] += neighbour_arcsec * np.cos(pa)
    return x, y


def flags(targets):
    tid = np.concatenate([np.full(len(x), i) for i, (x, _) in enumerate(targets)])
    x = np.concatenate([x for x, _ in targets])
    y = np.concatenate([y for _, y in targets])
    return association.second_source(tid, x, y, **OPTIONS)


def test_clean_targets_are_never_flagged():
    rng = np.random.default_rng(11)
    clean = [
        realistic(rng, int(np.exp(rng.uniform(np.log(10), np.log(600)))), rng.uniform(0.15, 1.0))
        for _ in range(600)
    ]
    assert flags(clean)["second_source"].sum() == 0


@pytest.mark.parametrize(("sep", "least"), [(2.0, 0.75), (3.0, 0.95)])
def test_planted_neighbours_are_found(sep, least):
    """A neighbour of comparable brightness (30-50 % of the detections) at 2" or 3", bright
    sources (0.15-0.35" scatter), 50-600 detections."""
    rng = np.random.default_rng(int(sep * 10))
    planted = [
        realistic(
            rng,
            int(np.exp(rng.uniform(np.log(50), np.log(600)))),
            rng.uniform(0.15, 0.35),
            sep,
            rng.uniform(0.3, 0.5),
        )
        for _ in range(300)
    ]
    got = flags(planted)
    assert got["second_source"].mean() >= least
    found = got[got["second_source"]]
    assert found["second_source_sep_arcsec"].median() == pytest.approx(sep, rel=0.05)
    assert found["second_source_frac"].between(0.2, 0.5).all()


def test_two_tight_clusters_known_answer_and_the_limits():
    rng = np.random.default_rng(5)
    x = np.r_[rng.normal(0, 0.2, 50), rng.normal(1.2, 0.2, 30)]
    y = np.r_[rng.normal(0, 0.2, 50), rng.normal(-1.6, 0.2, 30)]
    got = association.second_source(np.zeros(80), x, y, **OPTIONS).iloc[0]
    assert got["second_source"] and got["second_source_frac"] == pytest.approx(30 / 80)
    assert got["second_source_sep_arcsec"] == pytest.approx(2.0, abs=0.1)
    # the same with a cluster too small, or clusters closer than the absolute minimum
    few = association.second_source(np.zeros(54), x[:54], y[:54], **OPTIONS).iloc[0]
    assert not few["second_source"] and np.isnan(few["second_source_sep_arcsec"])
    near = association.second_source(
        np.zeros(80), x / 5, y / 5, **{**OPTIONS, "min_separation_sigma": 0}
    ).iloc[0]
    assert not near["second_source"]  # 0.4" apart: under min_separation_arcsec


def test_neighbour_across_the_seam_and_at_the_pole_through_diagnostics():
    """Detections of a target and of a neighbour 2" east of it, across RA 0 and at the pole:
    the offsets, the scatter and the flag come out the same wherever the pair is."""
    rng = np.random.default_rng(8)
    e = np.r_[rng.normal(0, 0.25, 60), rng.normal(2.0, 0.25, 40)]
    n = rng.normal(0, 0.25, 100)
    rows = []
    for name, ra, dec in (("SEAM", 359.9998, 5.0), ("POLE", 200.0, -90.0), ("PLAIN", 80.0, 20)):
        pra, pdec = offset_positions(np.full(100, ra), np.full(100, dec), e, n)
        rows.append(pd.DataFrame({"target_id": name, "ra": pra % 360, "dec": pdec}))
    lc = pd.concat(rows, ignore_index=True)
    targets = pd.DataFrame(
        {
            "target_id": ["SEAM", "POLE", "PLAIN", "NONE"],
            "ra": [359.9998, 200.0, 80.0, 1.0],
            "dec": [5.0, -90.0, 20.0, 1.0],
        }
    )
    got = association.diagnostics(lc, targets, OPTIONS)
    assert list(got.index) == ["SEAM", "POLE", "PLAIN", "NONE"]
    for name in ("SEAM", "POLE", "PLAIN"):
        row = got.loc[name]
        assert row["second_source"]
        assert row["second_source_sep_arcsec"] == pytest.approx(2.0, abs=0.15)
        assert row["centroid_east_arcsec"] == pytest.approx(np.median(e), abs=1e-6)
        assert row["centroid_north_arcsec"] == pytest.approx(np.median(n), abs=1e-6)
        assert row["offset_median_arcsec"] == pytest.approx(np.median(np.hypot(e, n)), abs=1e-6)
    assert not got.loc["NONE", "second_source"] and np.isnan(
        got.loc["NONE", "offset_median_arcsec"]
    )
    # a reference per row (e.g. a position propagated to each epoch): 1" east of the target
    ref = targets.set_index("target_id").loc[lc["target_id"]]
    ref_ra, ref_dec = offset_positions(
        ref["ra"].to_numpy(), ref["dec"].to_numpy(), np.ones(len(lc)), np.zeros(len(lc))
    )
    moved = association.diagnostics(lc, targets, OPTIONS, ref_ra=ref_ra, ref_dec=ref_dec)
    for name in ("SEAM", "PLAIN"):
        assert moved.loc[name, "centroid_east_arcsec"] == pytest.approx(np.median(e) - 1, abs=1e-3)
    # 1" from the pole, east and north have turned by 90 deg: the distance is what stays
    for name in ("SEAM", "POLE", "PLAIN"):
        centroid = moved.loc[name, ["centroid_east_arcsec", "centroid_north_arcsec"]]
        assert np.hypot(*centroid) == pytest.approx(np.hypot(np.median(e) - 1, np.median(n)))
        assert moved.loc[name, "second_source_sep_arcsec"] == pytest.approx(
            got.loc[name, "second_source_sep_arcsec"], abs=1e-3
        )


def test_summary_columns_and_epoch_scatter():
    # two epochs of a target at (10, 10): the first east offsets -1, 0, 1"; the second one
    ra, dec = offset_positions(
        np.full(4, 10.0), np.full(4, 10.0), np.array([-1.0, 0, 1, 0]), np.zeros(4)
    )
    lc = pd.DataFrame(
        {
            "target_id": "T",
            "mjd": [57000.0, 57000.1, 57000.2, 57200.0],
            "year": "year1",
            "ra": ra,
            "dec": dec,
            "w1flux": 100.0,
            "w1sigflux": 1.0,
            "w2flux": 100.0,
            "w2sigflux": 1.0,
        }
    )
    lc = calibrated(lc)
    binned = binning.bin_visits(lc, *DEFAULT_BINNING)
    assert binned["pos_scatter_arcsec"].iloc[0] == pytest.approx(1 / np.sqrt(2 * np.log(2)))
    assert np.isnan(binned["pos_scatter_arcsec"].iloc[1])
    assert str(target_files.to_table(binned, {})["pos_scatter_arcsec"].unit) == "arcsec"
    assert "pos_scatter_arcsec" not in binning.bin_visits(
        lc.drop(columns=["ra", "dec"]), *DEFAULT_BINNING
    )
    targets = pd.DataFrame({"target_id": ["T", "U"], "ra": [10.0, 1.0], "dec": [10.0, 1.0]})
    flags = pd.DataFrame(
        {"frac_blended": [0.5], "frac_contaminated": [0.25]},
        index=pd.Index(["T"], name="target_id"),
    )
    d = association.diagnostics(lc, targets, OPTIONS, flags)
    s = summary.summarize(lc, targets, binned, diagnostics=d)
    assert list(s.columns[-len(association.COLUMNS) :]) == list(association.COLUMNS)
    t, empty = s.iloc[0], s.iloc[1]
    assert t.offset_median_arcsec == pytest.approx(0.5) and t.frac_blended == 0.5
    assert t.second_source == False  # noqa: E712 (a nullable boolean)
    assert np.isnan(empty.frac_blended) and empty.second_source == False  # noqa: E712
    # without diagnostics the columns are there, empty
    s = summary.summarize(lc, targets, binned)
    assert s["offset_median_arcsec"].isna().all() and s["second_source"].isna().all()


def test_demo_neighbours_are_flagged_and_nothing_else(tiny_catalog):
    """The demo sky at 10": every target with a second source within the cone (the demo plants
    neighbours 3-8" from every third target; PAIR and SEAM are pairs 0.7-0.9" apart) is
    flagged, no other, at the distance of its farthest neighbour (by astropy)."""
    import pyarrow as pa

    from neowise_lightcurves import catalog, columns, demo, lightcurves, manifest, matching

    radius = 10.0
    sky = demo.build_sky(1, 5)
    t = sky.targets[["target_id", "ra", "dec"]]
    rows = manifest.target_partitions(t, radius, 2, None)
    cat = catalog.open_catalog(str(tiny_catalog))
    tables = [
        matching.match_shard(cat, year, part, radius, columns.cached_columns(), 1)
        for year in ("year1", "year2")
        for _, part in rows.groupby("shard")
    ]
    matches = pa.concat_tables(tables, promote_options="permissive")
    lc = lightcurves.build_lightcurves(
        matches, t, "cc_flags == '0000'", gap_days=DEFAULT_BINNING[0]
    ).to_pandas()
    got = association.diagnostics(lc, t, OPTIONS, association.flag_fractions(matches, t))
    sep = (
        SkyCoord(t["ra"].to_numpy()[:, None] * u.deg, t["dec"].to_numpy()[:, None] * u.deg)
        .separation(
            SkyCoord(sky.sources["ra"].to_numpy() * u.deg, sky.sources["dec"].to_numpy() * u.deg)
        )
        .to_value(u.arcsec)
    )
    within = np.where(sep < radius, sep, np.nan)
    two = (sep < radius).sum(axis=1) >= 2
    assert two.sum() >= 10
    flagged = got.loc[t["target_id"], "second_source"].to_numpy(dtype=bool)
    assert (flagged == two).all(), t["target_id"][flagged != two].tolist()
    farthest = np.nanmax(within[two], axis=1)
    found = got.loc[t["target_id"][two], "second_source_sep_arcsec"].to_numpy()
    # (for PAIR and SEAM the near cluster holds both members of the pair: its centre lies
    # between them)
    assert np.allclose(found, farthest, atol=0.6)
    # the demo's flags: ~5 % nb = 2, ~3 % na = 1, ~10 % cc_flags set, before the cuts
    assert got["frac_blended"].dropna().between(0.0, 0.25).all()
    assert got["frac_contaminated"].dropna().between(0.02, 0.25).all()


def test_a_moving_target_is_measured_from_where_it_is():
    """A star moving 7.5"/yr, seen over three years: from its propagated position (targets with
    proper motions, as the manifest holds them) its detections sit at its position, within the
    astrometric scatter, with no second source; from its catalogue position alone they spread
    over its track."""
    from astropy.time import Time

    rng = np.random.default_rng(3)
    epochs = np.repeat(56700.0 + 182.6 * np.arange(6), 15) + rng.uniform(0, 1, 90)
    star = SkyCoord(
        ra=359.9995 * u.deg,
        dec=-0.5 * u.deg,
        pm_ra_cosdec=5000 * u.mas / u.yr,
        pm_dec=5600 * u.mas / u.yr,
        distance=10 * u.pc,
        obstime=Time(2016.0, format="jyear"),
    )
    now = star.apply_space_motion(new_obstime=Time(epochs, format="mjd"))
    ra, dec = offset_positions(
        now.ra.deg, now.dec.deg, rng.normal(0, 0.2, 90), rng.normal(0, 0.2, 90)
    )
    lc = pd.DataFrame({"target_id": "MOVER", "ra": ra, "dec": dec, "mjd": epochs})
    still = pd.DataFrame({"target_id": ["MOVER"], "ra": [359.9995], "dec": [-0.5]})
    moving = still.assign(pmra=5000.0, pmdec=5600.0, pm_epoch=2016.0)

    got = association.diagnostics(lc, moving, OPTIONS).loc["MOVER"]
    assert got["offset_median_arcsec"] < 0.5 and got["offset_scatter_arcsec"] < 0.3
    assert not got["second_source"]
    static = association.diagnostics(lc, still, OPTIONS).loc["MOVER"]
    assert static["offset_median_arcsec"] > 3 and static["offset_scatter_arcsec"] > 2
