import astropy.units as u
import hpgeom
import numpy as np
from astropy.coordinates import SkyCoord
from conftest import for_points_in_cones, point_in_cone

from neowise_lightcurves import matching, sky


def separation_arcsec(ra1, dec1, ra2, dec2):
    """Great-circle distances as the matcher computes them: chords between unit vectors."""
    chord = np.linalg.norm(sky.unit_vectors(ra1, dec1) - sky.unit_vectors(ra2, dec2), axis=1)
    return sky.chord_to_arcsec(chord)


def test_separation_matches_astropy_everywhere():
    rng = np.random.default_rng(3)
    ra1 = rng.uniform(0, 360, 500)
    dec1 = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    ra2 = (ra1 + rng.normal(0, 0.01, 500)) % 360
    dec2 = np.clip(dec1 + rng.normal(0, 0.01, 500), -90, 90)
    ours = separation_arcsec(ra1, dec1, ra2, dec2)
    ref = SkyCoord(ra1 * u.deg, dec1 * u.deg).separation(SkyCoord(ra2 * u.deg, dec2 * u.deg))
    np.testing.assert_allclose(ours, ref.arcsec, rtol=1e-9, atol=1e-9)


def test_separation_across_the_seam_and_at_the_pole():
    np.testing.assert_allclose(separation_arcsec(359.9999, 0, 0.0001, 0), 0.72, atol=1e-9)
    np.testing.assert_allclose(separation_arcsec(0, 90, 180, 90), 0, atol=1e-9)
    np.testing.assert_allclose(separation_arcsec(0, 89.9999, 180, 89.9999), 0.72, rtol=1e-6)


def test_parent_pixel_is_nested_parent():
    k5 = np.arange(12288)
    np.testing.assert_array_equal(sky.parent_pixel(k5, 5, 0), sky.k0_of(k5))
    ra, dec = hpgeom.pixel_to_angle(32, k5)
    np.testing.assert_array_equal(sky.parent_pixel(k5, 5, 2), sky.partition_of(ra, dec, order=2))


@for_points_in_cones
def test_cone_partitions_hold_every_point_of_the_cone(ra, dec, radius, pa, frac):
    """A point anywhere inside the cone lies in one of the cone's partitions."""
    pra, pdec = point_in_cone(ra, dec, radius, pa, frac)
    (pixels,) = sky.cone_partitions([ra], [dec], radius)
    assert sky.partition_of(pra, pdec) in pixels


def _circle(ra, dec, radius_arcsec, frac, n=72):
    """``n`` points ``frac`` x radius from each centre (arrays), every 360/n degrees."""
    ra, dec = np.repeat(ra, n), np.repeat(dec, n)
    pa = np.tile(np.arange(n) * 360.0 / n, len(ra) // n)
    return point_in_cone(ra, dec, radius_arcsec, pa, frac)


def test_cone_partitions_at_partition_corners_and_edges():
    """Cones centred just inside, on and just outside order-5 corners and edges (near the
    poles, on the RA 0 seam, at the equator): every point of their rims and centres lies in
    one of their partitions."""
    k5 = sky.partition_of(
        np.array([0.0, 359.99, 45.0, 100.0, 200.0, 10.0]),
        np.array([0.0, 30.0, 89.9, -89.9, 41.8, -41.8]),
    )
    for radius in (0.1, 1.0, 10.0, 30.0):
        bra, bdec = hpgeom.boundaries(32, k5, step=4)  # corners and three points per edge
        bra, bdec = bra.ravel(), bdec.ravel()
        for offset in (0.0, 0.5, 0.999, 1.001):
            for pa in (0.0, 45.0, 135.0, 250.0):
                cra, cdec = point_in_cone(bra, bdec, radius, pa, offset)
                cones = sky.cone_partitions(cra, cdec, radius)
                for frac in (0.0, 0.999999, 1.0):
                    pra, pdec = _circle(cra, cdec, radius, frac)
                    owner = sky.partition_of(pra, pdec).reshape(len(cra), -1)
                    for pix, got in zip(owner, cones, strict=True):
                        assert np.isin(pix, got).all(), (radius, offset, pa, frac)


def test_cone_partitions_are_tight():
    """A cone whose surroundings out to twice its radius lie in one partition gets only that
    partition (hpgeom's default inclusive query gives 2-4 to nearly half of all 1" cones)."""
    rng = np.random.default_rng(11)
    ra = rng.uniform(0, 360, 400)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 400)))
    for radius in (1.0, 10.0):
        home = sky.partition_of(ra, dec)
        ring = sky.partition_of(*_circle(ra, dec, radius, 2.0, n=360)).reshape(len(ra), -1)
        inside = (ring == home[:, None]).all(axis=1)
        assert inside.sum() > 390
        got = sky.cone_partitions(ra[inside], dec[inside], radius)
        assert [p.tolist() for p in got] == [[h] for h in home[inside]]


@for_points_in_cones
def test_cone_cover_holds_every_point_of_the_cone(ra, dec, radius, pa, frac):
    """The matcher's pixel cover of a cone holds every point inside the cone."""
    pra, pdec = point_in_cone(ra, dec, radius, pa, frac)
    cones = matching.Cones([ra], [dec], radius)
    assert cones.order == sky.cover_order(radius)
    assert sky.in_pixels(np.array([pra]), np.array([pdec]), cones.pixels, cones.order).all()


def test_cover_order_pixels_are_as_wide_as_the_radius():
    for radius in (0.1, 1.0, 10.0, 30.0):
        order = sky.cover_order(radius)
        size = hpgeom.nside_to_resolution(hpgeom.order_to_nside(order), units="arcseconds")
        finer = hpgeom.nside_to_resolution(hpgeom.order_to_nside(order + 1), units="arcseconds")
        assert size >= radius and (finer < radius or order == sky.COVER_ORDERS[1])
    assert sky.cover_order(1.0) == 17 and sky.cover_order(10.0) == 14


def test_in_pixels_edge_cases():
    assert not sky.in_pixels(np.array([1.0]), np.array([1.0]), np.zeros(0, np.int64), 10).any()
    assert len(sky.in_pixels(np.zeros(0), np.zeros(0), np.array([1]), 10)) == 0
    pix = sky.partition_of(np.array([10.0, 200.0]), np.array([5.0, -60.0]), order=12)
    got = sky.in_pixels(
        np.array([10.0, 200.0, 100.0]), np.array([5.0, -60.0, 0.0]), np.sort(pix), 12
    )
    assert got.tolist() == [True, True, False]
