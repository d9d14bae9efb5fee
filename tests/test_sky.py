import astropy.units as u
import hpgeom
import numpy as np
from astropy.coordinates import SkyCoord
from conftest import for_points_in_cones, point_in_cone

from neowise_lightcurves import matching, sky


def test_separation_matches_astropy_everywhere():
    rng = np.random.default_rng(3)
    ra1 = rng.uniform(0, 360, 500)
    dec1 = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    ra2 = (ra1 + rng.normal(0, 0.01, 500)) % 360
    dec2 = np.clip(dec1 + rng.normal(0, 0.01, 500), -90, 90)
    ours = sky.separation_arcsec(ra1, dec1, ra2, dec2)
    ref = SkyCoord(ra1 * u.deg, dec1 * u.deg).separation(SkyCoord(ra2 * u.deg, dec2 * u.deg))
    np.testing.assert_allclose(ours, ref.arcsec, rtol=1e-9, atol=1e-9)


def test_separation_across_the_seam_and_at_the_pole():
    np.testing.assert_allclose(sky.separation_arcsec(359.9999, 0, 0.0001, 0), 0.72, atol=1e-9)
    np.testing.assert_allclose(sky.separation_arcsec(0, 90, 180, 90), 0, atol=1e-9)
    np.testing.assert_allclose(sky.separation_arcsec(0, 89.9999, 180, 89.9999), 0.72, rtol=1e-6)


def test_chord_round_trip():
    arcsec = np.array([0.1, 1, 10, 30, 3600])
    np.testing.assert_allclose(sky.chord_to_arcsec(sky.arcsec_to_chord(arcsec)), arcsec, rtol=1e-12)


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
