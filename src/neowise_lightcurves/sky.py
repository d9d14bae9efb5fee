"""Sky geometry: HEALPix partitions that cones touch, shards, unit vectors and angular distances.

All angles are in degrees unless a name says otherwise. HEALPix pixels are NESTED, as in IRSA's
partitioning (order 5 = nside 32, 12,288 pixels).
"""

from __future__ import annotations

import hpgeom
import numpy as np

#: HEALPix order of the catalogue's partitions.
PARTITION_ORDER = 5

ARCSEC = 1.0 / 3600.0  # degrees


def unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Unit vectors (N, 3) for positions ``ra``, ``dec`` in degrees."""
    vec = hpgeom.angle_to_vector(
        np.atleast_1d(np.asarray(ra, dtype=np.float64)),
        np.atleast_1d(np.asarray(dec, dtype=np.float64)),
        lonlat=True,
    )
    return np.asarray(vec, dtype=np.float64).reshape(-1, 3)


def east_north(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (N, 3) towards east (increasing RA) and north (increasing Dec) on the plane
    tangent to the sphere at ``ra``, ``dec`` (deg); at a pole, the limits along the meridian
    of ``ra``."""
    a = np.radians(np.atleast_1d(np.asarray(ra, dtype=np.float64))).reshape(-1)
    d = np.radians(np.atleast_1d(np.asarray(dec, dtype=np.float64))).reshape(-1)
    sa, ca, sd, cd = np.sin(a), np.cos(a), np.sin(d), np.cos(d)
    east = np.stack([-sa, ca, np.zeros_like(a)], axis=-1)
    north = np.stack([-sd * ca, -sd * sa, cd], axis=-1)
    return east, north


def chord_to_arcsec(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance in arcsec for a chord length between unit vectors.

    ``2 asin(c / 2)`` is exact and numerically stable for the small angles used here: the chord
    of two unit vectors is computed to ~1e-16 absolute, i.e. ~2e-11 arcsec.
    """
    return np.degrees(2.0 * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))) * 3600.0


def partition_of(ra: np.ndarray, dec: np.ndarray, order: int = PARTITION_ORDER) -> np.ndarray:
    """NESTED HEALPix pixel at ``order`` holding each position (degrees)."""
    return hpgeom.angle_to_pixel(hpgeom.order_to_nside(order), ra, dec, nest=True, lonlat=True)


def cone_partitions(
    ra: np.ndarray, dec: np.ndarray, radius_arcsec: float, order: int = PARTITION_ORDER
) -> list[np.ndarray]:
    """Pixels at ``order`` that each cone touches (hpgeom, inclusive: a superset, never fewer).

    hpgeom's inclusive query tests overlap on pixels ``fact`` times finer than ``order``; with
    its default (4) a 1" cone anywhere in an order-5 partition is given 2-4 partitions nearly
    half the time. Here the test runs on pixels about a quarter of the radius across
    (:func:`inclusive_fact`), so a cone gets a neighbour only when it comes within about a
    quarter radius of it, at about twice the cost of the default query.

    Parameters
    ----------
    ra, dec : array_like
        Cone centres in degrees.
    radius_arcsec : float or array_like
        Cone radius in arcsec (one, or one per cone).
    order : int
        HEALPix order of the pixels returned.

    Returns
    -------
    list of numpy.ndarray
        One sorted int64 array of NESTED pixels per cone.
    """
    nside = hpgeom.order_to_nside(order)
    ra, dec = np.asarray(ra, float), np.asarray(dec, float)
    radius = np.broadcast_to(np.asarray(radius_arcsec, float), ra.shape)
    facts = {r: inclusive_fact(order, r) for r in np.unique(radius)}
    return [
        np.sort(
            hpgeom.query_circle(nside, a, b, r * ARCSEC, inclusive=True, fact=facts[r], nest=True)
        )
        for a, b, r in zip(ra, dec, radius, strict=True)
    ]


#: Finest HEALPix order hpgeom handles.
MAX_ORDER = 29


def inclusive_fact(order: int, radius_arcsec: float) -> int:
    """hpgeom's ``fact`` for an inclusive query at ``order``: test pixels ~radius/4 across.

    A power of two (NESTED queries need one), at least 4 (hpgeom's default), and no finer than
    order 29.
    """
    orders = np.arange(order + 2, MAX_ORDER + 1)
    size = hpgeom.nside_to_resolution(hpgeom.order_to_nside(orders), units="arcseconds")
    fits = orders[size >= float(radius_arcsec) / 4.0]
    fine = int(fits.max()) if len(fits) else order + 2
    return 2 ** (fine - order)


#: Range of orders :func:`cover_order` chooses from (order 20: pixels of ~0.2").
COVER_ORDERS = (8, 20)


def cover_order(radius_arcsec: float) -> int:
    """The finest HEALPix order whose pixels are at least ``radius_arcsec`` across.

    A cone then touches about ten pixels, and those pixels hold a few times the cone's own
    detections: the right grain for the matcher's cone covers (finer orders make the cover
    slower to compute than the detections it saves; measured with ``benchmarks/read_path.py``).
    """
    lo, hi = COVER_ORDERS
    orders = np.arange(lo, hi + 1)
    size = hpgeom.nside_to_resolution(hpgeom.order_to_nside(orders), units="arcseconds")
    fits = orders[size >= float(radius_arcsec)]
    return int(fits.max()) if len(fits) else lo


def in_pixels(ra: np.ndarray, dec: np.ndarray, pixels: np.ndarray, order: int) -> np.ndarray:
    """Boolean mask: which positions (degrees) lie in the sorted NESTED ``pixels`` at ``order``.

    Positions with a NaN coordinate lie in no pixel.
    """
    ra = np.asarray(ra, dtype=np.float64)
    dec = np.asarray(dec, dtype=np.float64)
    if len(pixels) == 0 or len(ra) == 0:
        return np.zeros(len(ra), bool)
    finite = np.isfinite(ra) & np.isfinite(dec)
    pix = partition_of(np.where(finite, ra, 0.0), np.where(finite, dec, 0.0), order=order)
    at = np.minimum(np.searchsorted(pixels, pix), len(pixels) - 1)
    return (pixels[at] == pix) & finite


def parent_pixel(pixel: np.ndarray, order: int, parent_order: int) -> np.ndarray:
    """NESTED parent at ``parent_order`` (<= ``order``) of pixels at ``order``."""
    if parent_order > order:
        raise ValueError(f"parent order {parent_order} is finer than order {order}")
    return np.asarray(pixel, dtype=np.int64) >> (2 * (order - parent_order))


def k0_of(k5: np.ndarray | int) -> np.ndarray | int:
    """The order-0 pixel (``healpix_k0`` hive key) of order-5 pixels: ``k5 // 1024``."""
    return k5 // 1024
