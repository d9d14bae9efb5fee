"""Exactness of the cone matcher against brute-force angular distances on skies built to break
naive code: poles, the RA seam, partition edges and corners, close pairs, duplicates."""

import astropy.units as u
import hpgeom
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from conftest import brute_force_pairs, for_points_in_cones, point_in_cone
from hypothesis import given, settings
from hypothesis import strategies as st

from neowise_lightcurves import matching


def match_positions(target_ra, target_dec, ra, dec, radius_arcsec):
    """Every (target, detection) pair within the radius, by the matcher."""
    return matching.Cones(target_ra, target_dec, radius_arcsec).match(ra, dec)


def scatter(ra, dec, n, max_arcsec, rng):
    """``n`` points around each position at every position angle, up to ``max_arcsec`` away."""
    c = SkyCoord(np.repeat(ra, n) * u.deg, np.repeat(dec, n) * u.deg)
    pa = rng.uniform(0, 360, c.size) * u.deg
    sep = rng.uniform(0, max_arcsec, c.size) * u.arcsec
    d = c.directional_offset_by(pa, sep)
    return d.ra.wrap_at(360 * u.deg).deg, d.dec.deg


def check(t_ra, t_dec, ra, dec, radius):
    ti, di, dist = match_positions(
        np.asarray(t_ra), np.asarray(t_dec), np.asarray(ra), np.asarray(dec), radius
    )
    got = set(zip(ti.tolist(), di.tolist(), strict=True))
    want = brute_force_pairs(t_ra, t_dec, ra, dec, radius)
    assert got == want, f"missing {sorted(want - got)[:5]}, extra {sorted(got - want)[:5]}"
    assert len(got) == len(ti), "a pair was reported twice"
    ref = SkyCoord(np.asarray(t_ra)[ti] * u.deg, np.asarray(t_dec)[ti] * u.deg).separation(
        SkyCoord(np.asarray(ra)[di] * u.deg, np.asarray(dec)[di] * u.deg)
    )
    np.testing.assert_allclose(dist, ref.arcsec, atol=1e-8)
    return got


corner_ra, corner_dec = hpgeom.boundaries(32, 4913, step=2)

SKIES = {
    "north pole": ([0.0, 180.0, 77.0], [89.99990, 89.99985, 90.0]),
    "south pole": ([0.0, 271.0], [-89.99995, -90.0]),
    "ra seam": ([359.99995, 0.00003, 0.0], [10.0, 10.0, -45.0]),
    "k5 corners and edges": (list(corner_ra), list(corner_dec)),
    "close pair": ([150.0, 150.0 + 0.5 / 3600], [2.0, 2.0]),
    "duplicates": ([33.0, 33.0, 33.0], [-5.0, -5.0, -5.0]),
}


@pytest.mark.parametrize("radius", [0.5, 1.0, 10.0, 600.0])
@pytest.mark.parametrize("name", sorted(SKIES))
def test_exact_on_hard_skies(name, radius):
    rng = np.random.default_rng(abs(hash((name, radius))) % 2**32)
    t_ra, t_dec = SKIES[name]
    ra, dec = scatter(t_ra, t_dec, 400, 2.5 * radius, rng)
    got = check(t_ra, t_dec, ra, dec, radius)
    assert got, "the sky should produce matches"
    # every target at the same position gets the same detections
    if name == "duplicates":
        per = [{d for t, d in got if t == i} for i in range(3)]
        assert per[0] == per[1] == per[2]


def test_pole_recovers_detections_at_every_ra():
    """The notebook's box (RA +/- 100 r in degrees of RA) misses most of a polar cone; we don't."""
    rng = np.random.default_rng(0)
    ra, dec = scatter([0.0], [89.9999], 2000, 1.0, rng)
    assert np.ptp(ra) > 300  # detections at nearly every RA
    ti, di, _ = match_positions(np.array([0.0]), np.array([89.9999]), ra, dec, 1.0)
    assert len(di) == 2000


def test_detections_without_a_position_never_match():
    """A null ra or dec (NaN once read) is no position: never a match, never an error."""
    ra = np.array([10.0, np.nan, 10.0, 10.0 + 0.2 / 3600])
    dec = np.array([20.0, 20.0, np.nan, 20.0])
    # the second target sits in the HEALPix pixel that hpgeom gives (nan, 20)
    t_ra, t_dec = np.array([10.0, 315.00068665]), np.array([20.0, 0.0])
    ti, di, _ = match_positions(t_ra, t_dec, ra, dec, 1.0)
    assert di.tolist() == [0, 3] and ti.tolist() == [0, 0]


def test_no_targets_or_no_detections():
    ti, di, dist = match_positions(np.zeros(0), np.zeros(0), np.ones(3), np.ones(3), 1)
    assert len(ti) == len(di) == len(dist) == 0
    ti, di, dist = match_positions(np.ones(2), np.ones(2), np.zeros(0), np.zeros(0), 1)
    assert len(ti) == 0
    # detections, none near
    ti, _, _ = match_positions(
        np.array([10.0]), np.array([10.0]), np.array([11.0]), np.array([10.0]), 1
    )
    assert len(ti) == 0


@settings(max_examples=60, deadline=None)
@given(
    ra=st.floats(0, 360, exclude_max=True),
    dec=st.floats(-90, 90),
    radius=st.floats(0.1, 30),
    n_targets=st.integers(1, 4),
    seed=st.integers(0, 2**31),
)
def test_property_exact_anywhere(ra, dec, radius, n_targets, seed):
    rng = np.random.default_rng(seed)
    t_ra, t_dec = scatter([ra], [dec], n_targets, 2 * radius, rng)
    d_ra, d_dec = scatter(t_ra, t_dec, 60, 2 * radius, rng)
    check(t_ra, t_dec, d_ra, d_dec, radius)


@for_points_in_cones
def test_row_group_pruning_never_drops_a_point_of_the_cone(ra, dec, radius, pa, frac):
    """A row group whose statistics box holds a point of the cone is never skipped. (astropy's
    offset of a point on the edge can land a few microarcseconds outside the cone, as at dec
    90, radius 0.1015625": such a point, by astropy's own separation, is not asked about.)"""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from hypothesis import assume

    pra, pdec = point_in_cone(ra, dec, radius, pa, frac)
    centre = SkyCoord(ra * u.deg, dec * u.deg)
    assume(centre.separation(SkyCoord(pra * u.deg, pdec * u.deg)).arcsec <= radius)
    bounds = matching.cone_bounds(np.array([ra]), np.array([dec]), radius)
    assert matching.may_overlap(bounds, pra, pra, pdec, pdec)


def test_row_group_pruning_skips_far_boxes():
    bounds = matching.cone_bounds(np.array([10.0]), np.array([20.0]), 1.0)
    assert not matching.may_overlap(bounds, 11.0, 12.0, 19.0, 21.0)
    assert not matching.may_overlap(bounds, 9.0, 11.0, 25.0, 26.0)
    seam = matching.cone_bounds(np.array([359.99999]), np.array([0.0]), 1.0)
    assert matching.may_overlap(seam, 0.0, 0.001, -0.01, 0.01)


def notebook_box(t_ra, t_dec, ra, dec, radius_arcsec, scale_factor=100):
    """IRSA's notebook's rough cut: one box around a partition's targets, RA/Dec +/- 100 x
    radius in degrees (no cos Dec, no RA wrap)."""
    buf = scale_factor * radius_arcsec / 3600
    t_ra, t_dec = np.asarray(t_ra), np.asarray(t_dec)
    return (
        (ra > t_ra.min() - buf)
        & (ra < t_ra.max() + buf)
        & (dec > t_dec.min() - buf)
        & (dec < t_dec.max() + buf)
    )


@pytest.mark.parametrize("name", ["north pole", "ra seam"])
def test_notebook_box_misses(name):
    """The baseline's recall on the hard skies is below 1; ours is exactly 1."""
    rng = np.random.default_rng(11)
    t_ra, t_dec = SKIES[name]
    t_ra, t_dec = t_ra[:1], t_dec[:1]
    ra, dec = scatter(t_ra, t_dec, 2000, 1.0, rng)
    want = brute_force_pairs(t_ra, t_dec, ra, dec, 1.0)
    kept = notebook_box(t_ra, t_dec, ra, dec, 1.0)
    recall = len({d for _, d in want if kept[d]}) / len(want)
    assert recall < 0.9
    got = check(t_ra, t_dec, ra, dec, 1.0)
    assert got == want


@pytest.mark.parametrize("radius", [0.5, 1.0, 10.0, 30.0])
@pytest.mark.parametrize(
    "centre",
    [(150.0, 2.0), (0.0, 30.0), (359.8, -10.0), (180.0, 87.0), (45.0, -88.5)],
    ids=["field", "seam", "seam-2", "north", "south"],
)
def test_exact_on_fields(centre, radius):
    """Fields of many targets (where the matcher's RA/Dec grid cut is used), at the seam and
    near the poles: brute force agrees."""
    rng = np.random.default_rng(int(radius * 10 + centre[1] + 100))
    t_ra, t_dec = scatter([centre[0]], [centre[1]], 60, 1800.0, rng)
    ra, dec = scatter(t_ra, t_dec, 40, 2.5 * radius, rng)
    cones = matching.Cones(t_ra, t_dec, radius)
    assert cones.grid is not None
    if centre[0] in (0.0, 359.8):
        assert cones.grid.ra_ref is not None  # unwrapped across RA 0
    assert check(t_ra, t_dec, ra, dec, radius)


@for_points_in_cones
def test_box_grid_never_drops_a_point_of_the_cone(ra, dec, radius, pa, frac):
    """A point of a cone lies in a marked cell of the grid of that cone and a far one."""
    pra, pdec = point_in_cone(ra, dec, radius, pa, frac)
    other_ra, other_dec = (ra + 0.7) % 360, float(np.clip(dec - 0.5, -90, 90))
    bounds = matching.cone_bounds(np.array([ra, other_ra]), np.array([dec, other_dec]), radius)
    grid = matching.BoxGrid.of(bounds, radius)
    if grid is None:  # a pole inside a cone: the pixel test alone
        assert (bounds[3] >= 180).any()
        return
    assert 0 in grid.near(np.array([pra, np.nan, pra]), np.array([pdec, pdec, np.nan]))
    assert grid.near(np.array([np.nan]), np.array([np.nan])).size == 0


def test_box_grid_gives_way_to_many_wide_boxes_near_a_pole():
    """Cones near a pole have boxes wide in RA; many of them would mark more cells than the grid
    holds, so the matcher goes without it (and stays exact)."""
    rng = np.random.default_rng(8)
    t_ra = rng.uniform(0, 90, 1000)
    t_dec = np.full(1000, 89.99)
    assert matching.BoxGrid.of(matching.cone_bounds(t_ra, t_dec, 30.0), 30.0) is None
    ra, dec = scatter(t_ra[:20], t_dec[:20], 30, 60.0, rng)
    check(t_ra, t_dec, ra, dec, 30.0)
