"""Proper motion: propagation against astropy, matching and manifests against brute force on
propagated positions (fast movers in open sky, over a pole, across RA 0/360 and across
partition and shard boundaries)."""

import warnings

import astropy.units as u
import hpgeom
import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pytest
from astropy.coordinates import SkyCoord
from astropy.time import Time

from neowise_lightcurves import catalog, columns, demo, manifest, matching, motion, sky


def astropy_at(ra, dec, pmra, pmdec, epoch_jyear, mjd, distance=True):
    """Positions (deg) at ``mjd`` by astropy's ``apply_space_motion``: with a distance (10 pc)
    and zero radial velocity (straight-line motion in space), or with none."""
    extra = dict(distance=10 * u.pc, radial_velocity=0 * u.km / u.s) if distance else {}
    c = SkyCoord(
        np.asarray(ra) * u.deg,
        np.asarray(dec) * u.deg,
        pm_ra_cosdec=np.asarray(pmra) * u.mas / u.yr,
        pm_dec=np.asarray(pmdec) * u.mas / u.yr,
        obstime=Time(epoch_jyear, format="jyear", scale="tdb"),
        **extra,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ERFA's notes on the dummy distance
        moved = c.apply_space_motion(new_obstime=Time(mjd, format="mjd", scale="tdb"))
    return moved.ra.deg, moved.dec.deg


def separation_mas(ra1, dec1, ra2, dec2):
    ra1, dec1, ra2, dec2 = (np.asarray(x, dtype=float) for x in (ra1, dec1, ra2, dec2))
    return SkyCoord(ra1 * u.deg, dec1 * u.deg).separation(SkyCoord(ra2 * u.deg, dec2 * u.deg)).mas


def test_jyear_to_mjd():
    assert motion.jyear_to_mjd(2016.0) == 57388.5  # Gaia DR3's epoch
    assert motion.jyear_to_mjd(2000.0) == 51544.5  # J2000.0 = JD 2451545.0
    assert Time(2016.0, format="jyear", scale="tdb").mjd == pytest.approx(57388.5, abs=1e-9)


def test_propagation_agrees_with_astropy():
    """10"/yr for up to 10 years: agreement far below 1 mas, open sky and at the poles."""
    rng = np.random.default_rng(3)
    n = 3000
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    dec[:300] = 90 - rng.uniform(0, 100, 300) / 3600  # within 100" of the poles: paths over them
    dec[300:600] = -90 + rng.uniform(0, 100, 300) / 3600
    pmra, pmdec = rng.uniform(-10_000, 10_000, (2, n))
    mjd = rng.uniform(56639, 60600, n)
    dt = (mjd - motion.jyear_to_mjd(2016.0)) / 365.25
    ours = motion.to_radec(motion.propagate(ra, dec, pmra, pmdec, dt))
    # straight-line motion with a distance and no radial velocity: everywhere, poles included
    want = astropy_at(ra, dec, pmra, pmdec, 2016.0, mjd)
    sep = separation_mas(*ours, *want)
    assert sep.max() < 1e-4, sep.max()
    # no distance at all (astropy's default): the same in open sky (near a pole ERFA's pmsafe
    # sometimes gives up and returns the unmoved position, so only the open sky is compared)
    open_sky = np.abs(dec) < 89
    want = astropy_at(ra, dec, pmra, pmdec, 2016.0, mjd, distance=False)
    sep = separation_mas(*ours, *want)[open_sky]
    assert sep.max() < 1e-4, sep.max()
    # and the moves are real: up to 10"/yr x 8.6 yr
    moved = separation_mas(ra, dec, *ours) / 1000
    assert moved.max() > 60 and moved.max() <= 10 * np.sqrt(2) * np.abs(dt).max() + 1e-6


def test_reach_bounds_every_move():
    rng = np.random.default_rng(4)
    n = 500
    pmra, pmdec = rng.uniform(-10_000, 10_000, (2, n))
    epoch = motion.jyear_to_mjd(rng.uniform(1991, 2016, n))
    span = motion.year_mjd_range(["year2", "year5"])
    reach = motion.reach_arcsec(pmra, pmdec, epoch, span)
    ra, dec = rng.uniform(0, 360, n), rng.uniform(-89, 89, n)
    for t in np.linspace(*span, 7):
        dt = (t - epoch) / 365.25
        moved = separation_mas(
            ra, dec, *motion.to_radec(motion.propagate(ra, dec, pmra, pmdec, dt))
        )
        assert (moved / 1000 <= reach + 1e-9).all()
    assert motion.reach_arcsec([0.0], [0.0], [epoch[0]], span)[0] == 0.0
    assert span == (56639 + 365.25 - 30, 56639 + 365.25 * 5 + 30)
    assert motion.year_mjd_range(["addendum"]) == motion.year_mjd_range([11])


# fast movers (up to 10"/yr) and still targets in hard places: the positions at J2016.0
HARD = {
    "open": [(150.1, 2.2, 10_000, 0), (150.1004, 2.2, -7_000, 7_000), (150.1, 2.2003, 0, 0)],
    "north-pole": [(0.0, 90 - 10 / 3600, 0, 10_000), (123.0, 89.9999, -9_000, 3_000)],
    "south-pole": [(200.0, -90 + 5 / 3600, 4_000, -9_000), (10.0, -89.99995, 0, 0)],
    "ra-seam": [(359.99995, -5.0, 10_000, 500), (0.00005, -5.0, -10_000, 0), (0.0, -5.001, 0, 0)],
}


def scene(where, year, rng, per_target=40, radius=1.0):
    """Targets of ``HARD[where]`` and detections in ``year``: at the targets' true positions
    (astropy) at random times of the year, scattered by up to 2 radii, plus field stars."""
    t = pd.DataFrame(HARD[where], columns=["ra", "dec", "pmra", "pmdec"])
    t["pm_epoch"] = 2016.0
    t["target_id"] = [f"{where}-{i}" for i in range(len(t))]
    lo, hi = motion.YEAR_MJD[year]
    ras, decs, mjds = [], [], []
    for row in t.itertuples():
        mjd = rng.uniform(lo, hi, per_target)
        tra, tdec = astropy_at(row.ra, row.dec, row.pmra, row.pmdec, 2016.0, mjd)
        c = SkyCoord(tra * u.deg, tdec * u.deg).directional_offset_by(
            rng.uniform(0, 360, per_target) * u.deg,
            rng.uniform(0, 2 * radius, per_target) * u.arcsec,
        )
        ras.append(c.ra.wrap_at(360 * u.deg).deg)
        decs.append(c.dec.deg)
        mjds.append(mjd)
    n_field = 300
    c = SkyCoord(t["ra"].iloc[0] * u.deg, t["dec"].iloc[0] * u.deg).directional_offset_by(
        rng.uniform(0, 360, n_field) * u.deg, rng.uniform(0, 120, n_field) * u.arcsec
    )
    ras.append(c.ra.wrap_at(360 * u.deg).deg)
    decs.append(c.dec.deg)
    mjds.append(rng.uniform(lo, hi, n_field))
    return t, np.concatenate(ras), np.concatenate(decs), np.concatenate(mjds)


def brute_force_moving(t, ra, dec, mjd, radius):
    """Every (target, detection) pair within ``radius`` of the target's astropy position at the
    detection's time, with its distance (arcsec)."""
    pairs = {}
    for i, row in enumerate(t.itertuples()):
        tra, tdec = astropy_at(
            np.full(len(mjd), row.ra),
            np.full(len(mjd), row.dec),
            np.full(len(mjd), row.pmra),
            np.full(len(mjd), row.pmdec),
            row.pm_epoch,
            mjd,
        )
        sep = separation_mas(tra, tdec, ra, dec) / 1000
        pairs.update({(i, int(j)): sep[j] for j in np.flatnonzero(sep <= radius)})
    return pairs


@pytest.mark.parametrize("where", sorted(HARD))
@pytest.mark.parametrize("year", ["year1", "year4", "year11"])
def test_cones_with_motion_equal_brute_force(where, year):
    rng = np.random.default_rng([7, len(where), int(year[4:])])
    radius = 1.0
    t, ra, dec, mjd = scene(where, year, rng, radius=radius)
    cones = matching.Cones(t["ra"], t["dec"], radius, motion.Motion.of(t, [year]))
    ti, di, dist = cones.match(ra, dec, mjd)
    want = brute_force_moving(t, ra, dec, mjd, radius)
    assert set(zip(ti.tolist(), di.tolist(), strict=True)) == set(want)
    assert np.allclose(dist, [want[(a, b)] for a, b in zip(ti, di, strict=True)], atol=1e-6)
    # without proper motion the fast movers lose detections (the scene is a real test)
    still_ti, _, _ = matching.Cones(t["ra"], t["dec"], radius).match(ra, dec)
    movers = np.flatnonzero((t["pmra"] != 0) | (t["pmdec"] != 0))
    assert np.isin(ti, movers).sum() > np.isin(still_ti, movers).sum()


def test_a_detection_outside_the_year_is_refused():
    t = pd.DataFrame({"ra": [150.0], "dec": [2.0], "pmra": [5000.0], "pmdec": [0.0]})
    t["pm_epoch"] = 2016.0
    moves = motion.Motion.of(t, ["year1"])
    cones = matching.Cones(t["ra"], t["dec"], 1.0, moves)
    # a detection in the coarse cone (about the mid-year position) at a time outside the year
    with pytest.raises(motion.MotionRangeError, match="outside MJD"):
        cones.match(moves.centre_ra, moves.centre_dec, [motion.YEAR_MJD["year3"][0]])
    # the coarse cone is centred on the mid-year position and only as wide as a year's motion
    mid = np.mean(moves.mjd_range)
    want = astropy_at(150.0, 2.0, 5000.0, 0.0, 2016.0, mid)
    assert separation_mas(moves.centre_ra, moves.centre_dec, *want) < 1e-3
    assert moves.reach[0] == pytest.approx(5.0 * (moves.mjd_range[1] - mid) / 365.25)
    # still targets need no times
    assert motion.Motion.of(t.assign(pmra=0.0), ["year1"]) is None


def moving_cone_partitions(row, years, radius, steps=400):
    """Brute force: the order-5 partitions holding the centre or a point of the rim (32 points)
    of the target's cone at ``steps`` times across ``years``."""
    lo, hi = motion.year_mjd_range(years)
    mjd = np.linspace(lo, hi, steps)
    tra, tdec = astropy_at(
        np.full(steps, row.ra),
        np.full(steps, row.dec),
        np.full(steps, row.pmra),
        np.full(steps, row.pmdec),
        row.pm_epoch,
        mjd,
    )
    centre = SkyCoord(np.repeat(tra, 32) * u.deg, np.repeat(tdec, 32) * u.deg)
    rim = centre.directional_offset_by(
        np.tile(np.arange(32) * 11.25, steps) * u.deg, radius * u.arcsec
    )
    return set(sky.partition_of(tra, tdec).tolist()) | set(
        sky.partition_of(rim.ra.wrap_at(360 * u.deg).deg, rim.dec.deg).tolist()
    )


def test_manifest_lists_every_partition_and_shard_a_mover_crosses():
    """Movers across an order-5 partition corner that is also an order-2 shard corner, over a
    pole and across RA 0/360: every partition their cones touch in the years is listed."""
    nside2 = hpgeom.order_to_nside(2)
    cra, cdec = hpgeom.boundaries(nside2, 100, step=1)  # corners of an order-2 pixel
    rows = [(float(cra[0]), float(cdec[0]) - 20 / 3600, 3_000, 9_000)]  # crosses the corner
    rows += [(0.0, 90 - 10 / 3600, 0, 10_000), (359.99995, -5.0, 10_000, 500), (45.0, -30, 0, 0)]
    t = pd.DataFrame(rows, columns=["ra", "dec", "pmra", "pmdec"])
    t["pm_epoch"] = 2016.0
    t["target_id"] = ["CROSS", "POLE", "SEAM", "STILL"]
    years = [f"year{i}" for i in range(1, 12)]
    radius = 2.0
    got = manifest.target_partitions(t, radius, 2, None, years=years)
    for row in t.itertuples():
        listed = set(got.loc[got["target_id"] == row.target_id, "k5"])
        assert moving_cone_partitions(row, years, radius) <= listed, row.target_id
    shards_of = got.groupby("target_id")["shard"].nunique()
    assert shards_of["CROSS"] >= 3 and shards_of["STILL"] == 1
    assert got.groupby("target_id")["home"].sum().eq(1).all()
    # one year only: a narrower cone, fewer partitions
    one = manifest.target_partitions(t, radius, 2, None, years=["year3"])
    assert (one["target_id"] == "CROSS").sum() == 1
    # without years (or without motion) the cones are as given, and no motion columns
    plain = manifest.target_partitions(t, radius, 2, None)
    still = manifest.target_partitions(t[["target_id", "ra", "dec"]], radius, 2, None)
    pd.testing.assert_frame_equal(plain, still)
    assert "pmra" not in plain.columns and "pmra" in got.columns


def test_digest_changes_with_a_movers_motion_only():
    base = pd.DataFrame({"target_id": ["A", "B"], "ra": [150.0, 45.0], "dec": [2.0, -30.0]})
    cols = columns.cached_columns()

    def digests(frame):
        rows = manifest.target_partitions(frame, 1.0, 2, None, years=["year1"])
        return {s.shard: s.digest for s in manifest.shards(rows, 1.0, cols, "demo")}

    plain = digests(base)
    zero = base.assign(pmra=0.0, pmdec=np.nan, pm_epoch=2016.0)
    assert digests(zero) == plain  # no target moves: as without the columns
    rows = manifest.target_partitions(base, 1.0, 2, None)
    a_shards = set(rows.loc[rows["target_id"] == "A", "shard"])
    slow = base.assign(pmra=[1.0, 0.0], pmdec=0.0, pm_epoch=2016.0)
    for moved in (slow, slow.assign(pm_epoch=2000.0), slow.assign(pmdec=[0.5, 0.0])):
        now = digests(moved)
        assert {s for s in now if now[s] != plain[s]} == a_shards
    assert digests(slow) != digests(slow.assign(pm_epoch=2000.0))
    # B's epoch is no part of any key: B does not move
    assert digests(slow) == digests(slow.assign(pm_epoch=[2016.0, 2000.0]))


@pytest.fixture(scope="module")
def demo_truth(tiny_catalog):
    targets = demo.build_sky(seed=1, field_sources=5).targets
    ds = pads.dataset(
        tiny_catalog / "year2" / "neowiser-healpix_k5-year2.parquet",
        format="parquet",
        partitioning="hive",
        exclude_invalid_files=True,
    )
    return targets, ds.to_table(columns=["ra", "dec", "mjd", "cntr"]).to_pandas()


def test_demo_mover_complete_only_with_proper_motion(tiny_catalog, demo_truth):
    """On the demo files (year 2, where MOVER crosses a partition edge): match_shard over the
    manifest's shards equals brute force on propagated positions; without motion, MOVER loses
    its detections and nothing else changes."""
    targets, everything = demo_truth
    cat = catalog.open_catalog(str(tiny_catalog))
    cols = columns.cached_columns()
    radius = 1.0

    def run(years):
        rows = manifest.target_partitions(targets, radius, 2, None, years=years)
        got = pd.concat(
            [
                matching.match_shard(cat, "year2", g, radius, cols, 2).to_pandas()
                for _, g in rows.groupby("shard")
            ]
        )
        return rows, got

    rows, got = run(["year1", "year2"])
    mover = targets[targets["target_id"] == "MOVER"]
    assert rows.loc[rows["target_id"] == "MOVER", "k5"].nunique() >= 2
    want = brute_force_moving(
        mover.reset_index(drop=True), everything["ra"], everything["dec"], everything["mjd"], radius
    )
    want_cntr = {int(everything["cntr"].iloc[d]) for _, d in want}
    have = got[got["target_id"] == "MOVER"]
    assert set(have["cntr"].astype(int)) == want_cntr and len(want_cntr) >= 20
    # every true detection of MOVER's source is in (the demo writes them from cntr 9e10)
    assert want_cntr == {int(c) for c in everything["cntr"] if c % 10**11 >= 9 * 10**10}
    # distances are from the propagated position
    assert have["dist_arcsec"].max() <= radius
    _, off = run(None)  # no motion
    assert (off["target_id"] == "MOVER").sum() < len(want_cntr) // 2
    same = lambda f: set(zip(f["target_id"], f["cntr"].astype(int), strict=True))  # noqa: E731
    assert same(off[off["target_id"] != "MOVER"]) == same(got[got["target_id"] != "MOVER"])


def test_match_shard_follows_movers_across_shards_over_the_years(tmp_path):
    """Real files, 11 years: a mover across an order-2 shard corner, one over the north pole
    and one across RA 0/360, among still field stars, written in IRSA's layout by the demo's
    code; match_shard over the manifest's shards equals brute force on propagated positions in
    every year."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    nside2 = hpgeom.order_to_nside(2)
    cra, cdec = hpgeom.boundaries(nside2, 100, step=1)
    movers = [
        ("CROSS", float(cra[0]), float(cdec[0]) - 20 / 3600, 3_000.0, 9_000.0),
        ("POLE", 0.0, 90 - 10 / 3600, 0.0, 10_000.0),
        ("SEAM", 359.99995, -5.0, 10_000.0, 500.0),
    ]
    rng = np.random.default_rng(11)
    src = []
    for _, ra, dec, pmra, pmdec in movers:
        src.append(dict(ra=ra, dec=dec, pmra=pmra, pmdec=pmdec))
        field = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(
            rng.uniform(0, 360, 30) * u.deg, rng.uniform(0, 90, 30) * u.arcsec
        )
        for fra, fdec in zip(field.ra.wrap_at(360 * u.deg).deg, field.dec.deg, strict=True):
            src.append(dict(ra=fra, dec=fdec, pmra=0.0, pmdec=0.0))
    sources = pd.DataFrame(src)
    sources["w1"], sources["w2"], sources["kind"] = 12.0, 11.7, "constant"
    sources["region"], sources["n_exposures"], sources["phase"] = "field-a", 4, 40.0
    sources["index"] = np.arange(len(sources))
    targets = pd.DataFrame(movers, columns=["target_id", "ra", "dec", "pmra", "pmdec"])
    targets["pm_epoch"] = demo.MOVER_EPOCH
    still = sources[sources["pmra"] == 0].iloc[::10]  # some still field stars as targets too
    targets = pd.concat(
        [targets, still[["ra", "dec"]].assign(target_id=[f"S{i}" for i in range(len(still))])],
        ignore_index=True,
    ).fillna({"pmra": 0.0, "pmdec": 0.0, "pm_epoch": 2016.0})
    sky_ = demo.DemoSky(sources=sources, targets=targets)
    years = [f"year{i}" for i in range(1, 12)]
    for year in years:
        table = demo.year_table(sky_, year, seed=1)
        k5 = table["healpix_k5"].to_numpy()
        data = table.drop_columns(["healpix_k5"])
        for p in np.unique(k5):
            leaf = tmp_path / catalog.partition_path(year, int(p))
            leaf.mkdir(parents=True)
            pq.write_table(
                data.filter(pa.array(k5 == p)), leaf / "part0.snappy.parquet", row_group_size=20
            )
    radius = 1.0
    rows = manifest.target_partitions(targets, radius, 2, None, years=years)
    assert rows.loc[rows["target_id"] == "CROSS", "shard"].nunique() >= 2
    cat = catalog.open_catalog(str(tmp_path))
    cols = columns.cached_columns()
    cross_shards = set()
    for year in years:
        got = pd.concat(
            [
                matching.match_shard(cat, year, g, radius, cols, 2).to_pandas()
                for _, g in rows.groupby("shard")
            ]
        )
        every = (
            pads.dataset(
                tmp_path / catalog.year_dataset(year), format="parquet", partitioning="hive"
            )
            .to_table(columns=["ra", "dec", "mjd", "cntr"])
            .to_pandas()
        )
        want = brute_force_moving(targets, every["ra"], every["dec"], every["mjd"], radius)
        want = {(targets["target_id"][t], int(every["cntr"][d])) for t, d in want}
        have = set(zip(got["target_id"], got["cntr"].astype(int), strict=True))
        assert have == want, year
        assert len(got) == len(have)
        # each mover has (nearly) every one of its detections: 2 visits x 4 exposures at 94 %
        for name, *_ in movers:
            assert (got["target_id"] == name).sum() >= 5, (year, name)
        cross = got[got["target_id"] == "CROSS"]
        k5 = sky.partition_of(cross["ra"].to_numpy(), cross["dec"].to_numpy())
        cross_shards |= set(sky.parent_pixel(k5, 5, 2).tolist())
    assert len(cross_shards) >= 2  # its detections lie in more than one shard


def test_a_file_with_times_outside_the_year_is_refused_before_matching(tmp_path):
    """A year's file whose mjd statistics reach outside the range the movers' cones were
    widened for is refused, naming it, even where its rows lie outside the coarse cone (the
    exact step alone would never see them); still targets read it as before."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    targets = pd.DataFrame(
        {"target_id": ["MOVER"], "ra": [150.0], "dec": [2.0], "pmra": [5000.0], "pmdec": [0.0]}
    )
    targets["pm_epoch"] = 2016.0
    schema = columns.file_schema()
    n = 40
    data = {f.name: pa.nulls(n, f.type) for f in schema}
    data["ra"] = pa.array(np.full(n, 150.0 + 60 / 3600))  # 60" east: beyond any reach here
    data["dec"] = pa.array(np.full(n, 2.0))
    data["mjd"] = pa.array(np.full(n, motion.YEAR_MJD["year3"][0] + 10.0))  # not year 1's
    data["cntr"] = pa.array(np.arange(n, dtype=np.int64))
    table = pa.table(data)
    rows = manifest.target_partitions(targets, 1.0, 2, None, years=["year1"])
    for k5 in rows["k5"].unique():
        leaf = tmp_path / catalog.partition_path("year1", int(k5))
        leaf.mkdir(parents=True)
        pq.write_table(table, leaf / "part0.snappy.parquet", row_group_size=20)
    cat = catalog.open_catalog(str(tmp_path))
    cols = columns.cached_columns()
    with pytest.raises(motion.MotionRangeError, match=r"part0\.snappy\.parquet, row group 0"):
        matching.match_shard(cat, "year1", rows, 1.0, cols, 2)
    still = manifest.target_partitions(targets[["target_id", "ra", "dec"]], 1.0, 2, None)
    assert matching.match_shard(cat, "year1", still, 1.0, cols, 2).num_rows == 0


def test_an_old_epoch_costs_no_wider_coarse_cone():
    """Hipparcos-epoch positions (J1991.25) of a 10"/yr star: its year-1 coarse cone is centred
    on where it is that year and covers no more pixels than with a Gaia-epoch position."""
    base = pd.DataFrame({"ra": [150.0], "dec": [2.0], "pmra": [6000.0], "pmdec": [-8000.0]})
    covers = {}
    for epoch in (1991.25, 2016.0):
        t = base.assign(pm_epoch=epoch)
        cones = matching.Cones(t["ra"], t["dec"], 1.0, motion.Motion.of(t, ["year1"]))
        covers[epoch] = len(cones.cover_pixels)
    assert covers[1991.25] == pytest.approx(covers[2016.0], rel=0.3)
    assert covers[2016.0] < 200
