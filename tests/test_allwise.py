"""The AllWISE MEP in the light curves: matching through a real TAP server on loopback
(benchmarks/servers.py's UwsTapServer, brute-force answers), the exact test, the shard's partitions,
one row per exposure, and the columns mapped onto NEOWISE's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from conftest import brute_force_pairs, point_in_cone
from servers import UwsTapServer

from neowise_lightcurves import allwise, allwise_match, columns, photometry, sky
from neowise_lightcurves.matching import output_schema
from neowise_lightcurves.tap import TapOverflowError

#: The AllWISE MEP's zero points (mag) on IRSA's rows: w?mpro_ep + 2.5 log10(w?flux_ep)
MEP_ZP = {"w1": 20.5, "w2": 19.5}

RADIUS = 3.0
#: IRSA's TAP service and the MEP's table there (config.yaml's defaults).
_DEFAULTS = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())
IRSA_TAP = _DEFAULTS["catalog"]["allwise_mep"]["tap_url"]
TABLE = _DEFAULTS["catalog"]["allwise_mep"]["table"]
# every column a MEP job may be asked for: the base ones, the cut presets' and the snr
COLUMNS = columns.cached_columns([*columns.QUALITY_COLUMNS, "source_id", "w1snr", "w2snr"])


def _targets():
    return pd.DataFrame(
        {
            "target_id": ["open", "pole", "seam-w", "seam-e", "far"],
            "ra": [150.0, 42.0, 359.9996, 0.0006, 300.0],
            "dec": [2.0, 89.99990, -1.0, -1.0, -60.0],
        }
    )


#: Sources about each target (position angle, fraction of the radius): AllWISE sources are
#: more than 1" apart; two just inside the cone, two outside; a Reject-Table duplicate of the
#: first 0.3" farther out.
LAYOUT = ((60.0, 0.5), (150.0, 0.99), (240.0, 0.8), (330.0, 1.01), (0.0, 1.4))


def _mep(targets, rng, exposures=6):
    """A synthetic MEP: the :data:`LAYOUT` sources about each target, each measured on
    ``exposures`` exposures, the duplicate on the same ones, and one row repeated exactly."""
    src = []
    for t in targets.itertuples():
        for angle, frac in LAYOUT:
            src.append((*point_in_cone(t.ra, t.dec, RADIUS, angle, frac), False))
        src.append((*point_in_cone(t.ra, t.dec, RADIUS, 60.0, 0.6), True))
    rows = []
    cntr_mf = 10**12
    times = 55300.0 + rng.uniform(0, 200, exposures)
    for i, (ra, dec, dup) in enumerate(src):
        if not dup:
            cntr_mf += 1
        if i % (len(LAYOUT) + 1) == 0:
            first = cntr_mf  # the target's first source: the one duplicated
        for e, t in enumerate(times):
            w1 = rng.normal(2000, 30)
            rows.append(
                dict(
                    cntr_mf=first + 5 * 10**11 if dup else cntr_mf,
                    source_id_mf=f"0000p000_ac51-{i:06d}",
                    cntr=len(rows) + 1,
                    frame_id=f"0{e:04d}a{i % 200:03d}",
                    ra=ra,
                    dec=dec,
                    mjd=t,
                    w1flux_ep=w1,
                    w1sigflux_ep=30.0,
                    w2flux_ep=-5.0 if e == 0 else 800.0,
                    w2sigflux_ep=20.0,
                    w1mpro_ep=MEP_ZP["w1"] - 2.5 * np.log10(w1),
                    w1sigmpro_ep=0.016,
                    w2mpro_ep=MEP_ZP["w2"] - 2.5 * np.log10(800.0),
                    w2sigmpro_ep=0.03,
                    w1rchi2_ep=1.0,
                    w2rchi2_ep=1.1,
                    nb=1,
                    na=0,
                    cc_flags="0000",
                    qi_fact=1.0,
                    saa_sep=50.0,
                    moon_masked="00",
                    dup=dup,
                )
            )
    frame = pd.DataFrame(rows)
    repeated = frame.iloc[[7]]  # a row the table holds twice
    return pd.concat([frame, repeated], ignore_index=True)


def _rows(targets):
    """Manifest rows: each target with every partition its cone touches."""
    out = []
    for t in targets.itertuples():
        for k5 in sky.cone_partitions([t.ra], [t.dec], RADIUS * 1.01)[0]:
            out.append(dict(target_id=t.target_id, ra=t.ra, dec=t.dec, k5=int(k5)))
    return pd.DataFrame(out)


def _server_table(mep):
    from astropy.table import Table

    return Table.from_pandas(mep.drop(columns=["dup"]))


def _match(server, rows, **kw):
    settings = dict(
        tap_url=server.url,
        table=TABLE,
        max_upload_rows=1000,
        max_answer_rows=100_000,
        attempts=3,
        backoff_s=0.01,
        job_timeout_s=30.0,
        what="AllWISE MEP for shard test",
    )
    settings.update(kw)
    return allwise_match.match_tap(rows, RADIUS, COLUMNS, **settings)


def _ids(table):
    """(target, cntr) of each row of a cache table."""
    return set(zip(table["target_id"].to_pylist(), table["cntr"].to_pylist(), strict=True))


@pytest.fixture(scope="module")
def sky_():
    rng = np.random.default_rng(11)
    targets = _targets()
    return targets, _mep(targets, rng)


def test_tap_matches_equal_brute_force_then_each_exposure_once(sky_):
    targets, mep = sky_
    server = UwsTapServer({TABLE: _server_table(mep)})
    try:
        got = _match(server, _rows(targets))
        chunked = _match(server, _rows(targets), max_upload_rows=2)
    finally:
        server.stop()
    pairs = brute_force_pairs(targets["ra"], targets["dec"], mep["ra"], mep["dec"], RADIUS)
    # the job: every pair brute force finds, the repeated row as often as the table holds it
    assert sorted((targets["target_id"][i], -int(mep["cntr"][j])) for i, j in pairs) == sorted(
        zip(got["target_id"].to_pylist(), got["cntr"].to_pylist(), strict=True)
    )
    assert got.equals(chunked)
    assert any(mep["dup"][j] for _, j in pairs)  # duplicates were in the cones
    # the light-curve job: of a source and its duplicate, the entry nearer the target
    # (astropy's separation) stays; the repeated row once
    from astropy.coordinates import SkyCoord

    best = {}
    for i, j in pairs:
        t = targets.iloc[i]
        sep = SkyCoord(t["ra"], t["dec"], unit="deg").separation(
            SkyCoord(mep["ra"][j], mep["dec"][j], unit="deg")
        )
        key = (t["target_id"], mep["cntr_mf"][j] % (5 * 10**11), mep["mjd"][j])
        if key not in best or sep < best[key][0]:
            best[key] = (sep, int(mep["cntr"][j]))
    expected = {(key[0], -cntr) for key, (_, cntr) in best.items()}
    assert len(expected) >= 5 * 2 * 6  # 2 or 3 sources in each cone (the seam's overlap)
    once = allwise_match.drop_repeated_exposures(got)
    assert _ids(once) == expected and once.num_rows == len(expected) < got.num_rows


def test_a_duplicate_in_another_shard_is_dropped_all_the_same(sky_):
    """A source and its Reject-Table duplicate on either side of a partition edge, the
    target's cone across it in two shards: each shard's job keeps its own entry, the
    light-curve job (all shards' matches) one of them per exposure, as one shard would."""
    from neowise_lightcurves import demo

    _, edge = demo._corner_position()  # a point on an order-5 partition edge
    for angle in range(0, 360, 10):
        a = point_in_cone(*edge, 0.1, angle, 1.0)
        b = point_in_cone(*edge, 0.2, angle + 180, 1.0)
        if sky.partition_of(*a) != sky.partition_of(*b):
            break
    else:
        pytest.fail("no position angle crosses the edge")
    _, mep = sky_
    base = mep[mep["cntr_mf"] == mep["cntr_mf"].iloc[0]].iloc[:3]
    pair = pd.concat(
        [base.assign(ra=a[0], dec=a[1]), base.assign(ra=b[0], dec=b[1], cntr=base["cntr"] + 1000)]
    )
    rows = pd.DataFrame(
        dict(
            target_id="EDGE",
            ra=edge[0],
            dec=edge[1],
            k5=[sky.partition_of(*a), sky.partition_of(*b)],
        )
    )
    server = UwsTapServer({TABLE: _server_table(pair)})
    try:
        whole = _match(server, rows)
        one, two = _match(server, rows.iloc[[0]]), _match(server, rows.iloc[[1]])
    finally:
        server.stop()
    assert one.num_rows == two.num_rows == 3  # each shard its own side's entry
    together = allwise_match.drop_repeated_exposures(pa.concat_tables([one, two]))
    once = allwise_match.drop_repeated_exposures(whole)
    assert together.num_rows == 3 and _ids(together) == _ids(once)
    assert max(together["dist_arcsec"].to_pylist()) < 0.11  # the nearer entry


def test_columns_are_neowise_s_with_the_mep_s_own_fluxes(sky_):
    targets, mep = sky_
    server = UwsTapServer({TABLE: _server_table(mep)})
    try:
        got = _match(server, _rows(targets))
    finally:
        server.stop()
    assert got.schema == output_schema(COLUMNS, locations=False)  # no catalogue rows to name
    frame = got.to_pandas()
    assert set(frame["year"]) == {"allwise"}
    assert frame["qual_frame"].isna().all() and frame["ph_qual"].isna().all()
    assert (frame["cntr"] < 0).all()
    # the MEP's fluxes as it gives them (DN on its own zero points): no factor between tables
    w1 = MEP_ZP["w1"] - 2.5 * np.log10(frame["w1flux"])
    np.testing.assert_allclose(w1, frame["w1mpro"], atol=1e-9)
    np.testing.assert_allclose(frame["w1snr"], frame["w1flux"] / frame["w1sigflux"])
    assert frame.loc[frame["w2flux"] < 0, "w2snr"].isna().all()
    assert (frame.loc[frame["w2flux"] < 0].shape[0]) > 0


def test_a_shard_keeps_only_sources_in_its_partitions(sky_):
    targets, mep = sky_
    rows = _rows(targets)
    pole = rows["target_id"] == "pole"
    assert rows[pole]["k5"].nunique() == 4  # the pole's cone spans four partitions
    two = rows["k5"].isin(sorted(rows[pole]["k5"])[:2])
    half, other = rows[~pole | two], rows[pole & ~two]
    server = UwsTapServer({TABLE: _server_table(mep)})
    try:
        whole = _match(server, rows)
        a, b = _match(server, half), _match(server, other)
    finally:
        server.stop()
    assert a.num_rows and b.num_rows
    assert _ids(a) | _ids(b) == _ids(whole) and not _ids(a) & _ids(b)


def test_a_shard_over_the_service_s_row_limit_is_split_to_the_exact_answer(sky_):
    """The service cuts answers at fewer rows than the shard's (and flags OVERFLOW, as DaCHS
    does): the job asks again for fewer targets at a time and gets the uncapped answer."""
    targets, mep = sky_
    table = _server_table(mep)
    rows = _rows(targets)
    # the service's answer: every MEP row within the query's circle (a little wider than the
    # radius) of a target; the cap holds any one target's, not the shard's
    r = RADIUS * (1 + allwise_match.QUERY_SLACK[0]) + allwise_match.QUERY_SLACK[1]
    pairs = brute_force_pairs(targets["ra"], targets["dec"], mep["ra"], mep["dec"], r)
    cap = max(np.bincount([i for i, _ in pairs]))
    assert len(pairs) > 2 * cap
    uncapped = UwsTapServer({TABLE: table})
    try:
        whole = _match(uncapped, rows)
    finally:
        uncapped.stop()
    capped = UwsTapServer({TABLE: table}, hard_limit=cap)
    try:
        got = _match(capped, rows)
    finally:
        capped.stop()
    assert capped.overflows > 0 and capped.uploads[0] == len(targets) > min(capped.uploads)
    assert got.equals(whole)


def test_one_target_over_the_row_limit_is_a_clear_error(sky_):
    targets, mep = sky_
    server = UwsTapServer({TABLE: _server_table(mep)}, hard_limit=10)
    try:
        with pytest.raises(TapOverflowError) as err:
            _match(server, _rows(targets))
    finally:
        server.stop()
    msg = str(err.value)
    assert msg.startswith("AllWISE MEP for shard test (targets 1-1 of 5): the answer of the TAP")
    assert server.url in msg and "flagged OVERFLOW at 10 rows" in msg
    assert "query: SELECT u.target_index, t.cntr, " in msg
    assert msg.endswith(
        "raise catalog.allwise_mep.max_answer_rows (up to the service's own limit) or lower "
        "match.radius_arcsec"
    )


def test_a_moving_target_is_matched_at_allwise_s_epoch(sky_):
    """The MEP's position of a source is AllWISE's, at MJD 55400, for every exposure: a
    7.5"/yr star is matched there over the whole span (at each exposure's time it would be up
    to 3.7" away), and not at all without its proper motion (41" from its J2016 position)."""
    from neowise_lightcurves import motion

    pm = (6000.0, -4500.0)  # mas/yr
    epoch = 2016.0
    ra0, dec0 = 80.0, 20.0
    dt = (allwise.EPOCH_MJD - motion.jyear_to_mjd(epoch)) / motion.DAYS_PER_JULIAN_YEAR
    (sra,), (sdec,) = motion.to_radec(motion.propagate([ra0], [dec0], [pm[0]], [pm[1]], dt))
    _, mep = sky_
    one = mep.iloc[:4].copy()
    one["ra"], one["dec"] = sra, sdec
    one["mjd"] = allwise.EPOCH_MJD + np.array([-180.0, -60.0, 60.0, 180.0])
    rows = pd.DataFrame(
        dict(target_id=["MOVER"], ra=[ra0], dec=[dec0], k5=[int(sky.partition_of(sra, sdec))])
    )
    moving = rows.assign(pmra=pm[0], pmdec=pm[1], pm_epoch=epoch)
    server = UwsTapServer({TABLE: _server_table(one)})
    try:
        with_pm = _match(server, moving)
        still = _match(server, rows)
    finally:
        server.stop()
    assert with_pm.num_rows == 4 and still.num_rows == 0
    assert max(with_pm["dist_arcsec"].to_pylist()) < 1e-3


def test_one_row_per_exposure_keeps_distinct_neighbours():
    base = dict(target_id="T", mjd=55400.0)
    frame = pd.DataFrame(
        [
            dict(base, cntr=-1, ra=10.0, dec=0.0, dist_arcsec=0.2),
            dict(base, cntr=-2, ra=10.0 + 0.3 / 3600, dec=0.0, dist_arcsec=0.4),  # duplicate
            dict(base, cntr=-3, ra=10.0, dec=2.0 / 3600, dist_arcsec=2.0),  # a neighbour
            dict(base, cntr=-4, ra=10.0, dec=2.4 / 3600, dist_arcsec=2.4),  # its duplicate
            dict(base, cntr=-5, ra=10.0, dec=0.0, dist_arcsec=0.2, mjd=55401.0),
            dict(base, cntr=-6, ra=10.0, dec=0.0, dist_arcsec=0.2, mjd=55401.0),  # a tie
            # a chain: E 0.8" from the kept D, F 0.8" from E but 1.6" from D: F is another
            # source once E is dropped
            dict(base, cntr=-7, ra=10.0, dec=-5.0 / 3600, dist_arcsec=5.0, mjd=55402.0),
            dict(base, cntr=-8, ra=10.0, dec=-5.8 / 3600, dist_arcsec=5.8, mjd=55402.0),
            dict(base, cntr=-9, ra=10.0, dec=-6.6 / 3600, dist_arcsec=6.6, mjd=55402.0),
        ]
    )
    kept = allwise_match.one_row_per_exposure(frame)
    # the tie: the lower MEP cntr (5: the cache holds minus the MEP's own)
    assert kept["cntr"].tolist() == [-1, -3, -5, -7, -9]


def test_cache_names_key_the_source_and_the_shard():
    from neowise_lightcurves import cache
    from neowise_lightcurves.manifest import Shard

    demo_settings = {"seed": 1, "field_sources": 5}
    keys = {
        allwise.source_key("tap", "https://irsa.ipac.caltech.edu/TAP/", TABLE, {}),
        allwise.source_key("tap", "https://irsa.ipac.caltech.edu/TAP", "other_mep", {}),
        allwise.source_key("demo", "", "", demo_settings),
        allwise.source_key("/data/mep", "", "", {}),
    }
    assert len(keys) == 4  # a trailing slash is the same service
    assert allwise.source_key("tap", "https://x/TAP/", "t", {}) == allwise.source_key(
        "tap", "https://x/TAP", "t", {}
    )
    shards = [
        Shard("k2_1", "a" * 12, 3, (1,), allwise_digest="c" * 12),
        Shard("k2_2", "b" * 12, 20001, (2,), allwise_digest="d" * 12),
    ]
    names = cache.used_names(shards, "1", ["year1", allwise.NAME])
    assert names == {
        f"r1/year1/k2_1-{'a' * 12}.parquet",
        f"r1/year1/k2_2-{'b' * 12}.parquet",
        f"r1/allwise/k2_1-{'c' * 12}.parquet",
        f"r1/allwise/k2_2-{'d' * 12}.parquet",
    }
    with pytest.raises(ValueError, match="catalog.allwise_mep off"):
        cache.used_names([Shard("k2_1", "a" * 12, 3, (1,))], "1", [allwise.NAME])
    # the plan: one job per shard, the TAP queries a shard's uploads need
    text = allwise.plan_text(shards, tap_url=IRSA_TAP, max_upload_rows=20000)
    assert "2 (one per shard; 3 TAP upload queries of at most 20,000 targets" in text
    copy = allwise.plan_text(shards, copy="results/demo", max_upload_rows=20000)
    assert "from the copy at results/demo" in copy


def test_columns_the_mep_lacks():
    lacking = allwise.lacking(["cc_flags", "qual_frame", "w1snr", "ph_qual", "cntr", "mjd"])
    assert lacking == ["qual_frame", "ph_qual"]
    quality = columns.QUALITY_COLUMNS
    assert set(allwise.lacking(quality)) == {"qual_frame", "ph_qual", "sso_flg"}


def test_the_manifest_keys_the_mep_by_its_source_not_the_neowise_root(tmp_path):
    from neowise_lightcurves import manifest

    rows = _rows(_targets()).assign(shard="k2_1")
    key = allwise.digest_key(allwise.source_key("tap", IRSA_TAP, TABLE, {}))
    a = manifest.shards(rows, RADIUS, COLUMNS, "s3://one", key)
    b = manifest.shards(rows, RADIUS, COLUMNS, "/mirror/two", key)
    other = allwise.digest_key(allwise.source_key("demo", "", "", {"seed": 1, "field_sources": 5}))
    c = manifest.shards(rows, RADIUS, COLUMNS, "s3://one", other)
    assert a[0].digest != b[0].digest  # NEOWISE caches follow the catalogue root
    assert a[0].allwise_digest == b[0].allwise_digest  # the MEP's do not
    assert a[0].allwise_digest not in (c[0].allwise_digest, a[0].digest, "")
    assert manifest.shards(rows, RADIUS, COLUMNS, "s3://one")[0].allwise_digest == ""
    manifest.write_shards(tmp_path / "shards.tsv", a)
    assert manifest.read_shards(tmp_path / "shards.tsv") == a
    one = rows[rows["target_id"] == "open"]
    shard = manifest.shards(one, RADIUS, COLUMNS, "x", key)[0]
    source = allwise.source_key("tap", IRSA_TAP, TABLE, {})
    allwise.check_digest(one, "k2_1", shard.allwise_digest, RADIUS, COLUMNS, source)
    with pytest.raises(RuntimeError, match="manifest changed under this job"):
        allwise.check_digest(one, "k2_1", shard.allwise_digest, 2.0, COLUMNS, source)


def test_zero_points_against_an_irsa_mep_row():
    """An MEP row as IRSA serves it (AllWISE source 0015m046_ac51-048206, MJD 55548.6156292:
    w1mpro_ep 14.572 at w1flux_ep 235.14 DN, w2mpro_ep 14.644 at 87.564 DN): its own zero
    points are the MEP's (20.5, 19.5 to the magnitudes' rounding), and its flux densities are
    those of its magnitudes."""
    frame = pd.DataFrame(
        {
            "mjd": [55548.6156292],
            "w1flux": [235.14],
            "w1sigflux": [18.404],
            "w1mpro": [14.572],
            "w1sigmpro": [0.085],
            "w2flux": [87.564],
            "w2sigflux": [21.329],
            "w2mpro": [14.644],
            "w2sigmpro": [0.264],
        }
    )
    values = photometry.flux_densities(frame, np.zeros(1, int))
    for band, mag in (("w1", 14.572), ("w2", 14.644)):
        assert values[f"{band}zp"].iloc[0] == pytest.approx(MEP_ZP[band], abs=6e-4)
        assert values[f"{band}flux_mjy"].iloc[0] == pytest.approx(
            photometry.mag_to_mjy(mag, band), rel=1e-12
        )
