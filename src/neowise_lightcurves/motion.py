"""Proper motion: targets' positions at a detection's own time, and how far they move in a year.

A target with proper motion ``pmra`` (μα* = μα cos δ, mas/yr, as in Gaia) and ``pmdec`` (μδ,
mas/yr) at reference epoch ``pm_epoch`` (Julian year, e.g. 2016.0 for Gaia DR3) is at

    p(t) = normalize(p0 + Δt (μα* ê + μδ n̂)),   Δt = (t - epoch) in Julian years,

with ``p0`` its unit vector at the epoch and ``ê``, ``n̂`` the unit vectors towards east and
north there: straight-line motion in space, seen from the Sun, with no parallax or radial
velocity. That is what astropy's ``SkyCoord.apply_space_motion`` does with a distance and zero
radial velocity (the tests agree with it to ~1e-7 mas at 10"/yr over 10 years, at the poles
too; without a distance it agrees as well, except that ERFA's ``pmsafe`` leaves about one
position in a thousand within 10" of a pole unmoved). It needs no special case at the poles or
at RA 0/360. The angle moved, ``atan(μ Δt)``, is never more than ``μ |Δt|``: the *reach* by
which a moving target's cone is widened.

Missing (NaN) proper motions mean no motion. The catalogue's ``mjd`` and the Julian epochs are
taken on one time scale: the ~69 s between UTC and TDB move a 10"/yr star by 0.02 mas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: MJD of J2000.0 (Julian years: J = 2000 + (MJD - 51544.5) / 365.25).
MJD_J2000 = 51544.5
DAYS_PER_JULIAN_YEAR = 365.25
#: mas to radians.
MAS = np.radians(1.0 / 3600.0 / 1000.0)

#: MJD range (from, to) assumed for each survey year, a superset of its detections' times:
#: IRSA's scan ranges (year N from about 56639 + 365.25 (N - 1) to a year later; year 11 ended
#: with the survey on 2024-08-08, MJD ~60530, and is given a whole year), widened by
#: :data:`YEAR_MARGIN_DAYS`. The addendum is treated like the latest year. A moving target's
#: detection outside its year's range is refused (:meth:`Motion.distances`), never lost.
YEAR_MJD = {f"year{i}": (56639.0 + 365.25 * (i - 1), 56639.0 + 365.25 * i) for i in range(1, 12)}
YEAR_MJD["addendum"] = YEAR_MJD["year11"]
#: The AllWISE Multiepoch Photometry's exposures (:mod:`neowise_lightcurves.allwise`): WISE's
#: survey from 2010 January 7 to the end of the post-cryogenic phase on 2011 February 1.
YEAR_MJD["allwise"] = (55203.0, 55594.0)
#: Days added to both ends of every year's range.
YEAR_MARGIN_DAYS = 30.0


class MotionRangeError(ValueError):
    """Detections outside the MJD range a survey year's moving cones were widened for: they
    could be missed, so the job stops instead."""


#: Column names of the validated targets table (:func:`neowise_lightcurves.targets.normalize`).
COLUMNS = ("pmra", "pmdec", "pm_epoch")


def jyear_to_mjd(jyear) -> np.ndarray:
    """MJD of Julian epochs (``2016.0`` -> ``57388.5``)."""
    return MJD_J2000 + (np.asarray(jyear, dtype=np.float64) - 2000.0) * DAYS_PER_JULIAN_YEAR


def year_mjd_range(years) -> tuple[float, float]:
    """The MJD range (margin included) that the survey years ``years`` span together."""
    from .catalog import year_name

    spans = [YEAR_MJD[y if y in YEAR_MJD else year_name(y)] for y in years]
    if not spans:
        raise ValueError("no survey years")
    return min(s[0] for s in spans) - YEAR_MARGIN_DAYS, max(s[1] for s in spans) + YEAR_MARGIN_DAYS


def has_motion(frame) -> bool:
    """Whether a targets table (or manifest rows) carries :data:`COLUMNS`."""
    return all(c in frame.columns for c in COLUMNS)


def proper_motions(frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pmra``, ``pmdec`` (mas/yr; NaN as 0) and the reference epoch as MJD, of a frame with
    :data:`COLUMNS`."""
    pmra = np.nan_to_num(np.asarray(frame["pmra"], dtype=np.float64), nan=0.0)
    pmdec = np.nan_to_num(np.asarray(frame["pmdec"], dtype=np.float64), nan=0.0)
    return pmra, pmdec, jyear_to_mjd(np.asarray(frame["pm_epoch"], dtype=np.float64))


def reach_arcsec(pmra, pmdec, epoch_mjd, mjd_range: tuple[float, float]) -> np.ndarray:
    """The most each target moves (arcsec) from its reference epoch to any time in
    ``mjd_range``: ``μ max|Δt|`` (an upper bound of the angle, ``atan(μ Δt)``); 0 if still."""
    total = np.hypot(np.asarray(pmra, float), np.asarray(pmdec, float))  # mas/yr
    epoch = np.asarray(epoch_mjd, float)
    lo, hi = mjd_range
    years = np.maximum(np.abs(lo - epoch), np.abs(hi - epoch)) / DAYS_PER_JULIAN_YEAR
    return np.where(total > 0, total * years / 1000.0, 0.0)


def propagate(ra, dec, pmra, pmdec, dt_years) -> np.ndarray:
    """Unit vectors (N, 3) of positions ``ra``, ``dec`` (deg) moved for ``dt_years`` Julian
    years at ``pmra`` (μα*, mas/yr) and ``pmdec`` (mas/yr), as in the module's formula."""
    from . import sky

    return propagate_vectors(sky.unit_vectors(ra, dec), ra, dec, pmra, pmdec, dt_years)


def propagate_vectors(p0, ra, dec, pmra, pmdec, dt_years) -> np.ndarray:
    """:func:`propagate` from the unit vectors ``p0`` (N, 3) of the positions ``ra``, ``dec``
    (deg; they orient east and north, :func:`neowise_lightcurves.sky.east_north`)."""
    from . import sky

    east, north = sky.east_north(ra, dec)
    step = np.asarray(dt_years, dtype=np.float64).reshape(-1, 1) * MAS
    v = p0 + step * (np.asarray(pmra, float).reshape(-1, 1) * east)
    v = v + step * (np.asarray(pmdec, float).reshape(-1, 1) * north)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def positions_at(ra, dec, pmra, pmdec, epoch_mjd, mjd) -> tuple[np.ndarray, np.ndarray]:
    """Positions (deg) at ``mjd`` (one time, or one per position) of positions ``ra``, ``dec``
    at ``epoch_mjd`` moving at ``pmra`` (μα*), ``pmdec`` (mas/yr): :func:`propagate` for the
    moving ones; the others are returned as given (copies)."""
    ra, dec = np.array(ra, dtype=np.float64), np.array(dec, dtype=np.float64)
    pmra, pmdec = np.asarray(pmra, dtype=np.float64), np.asarray(pmdec, dtype=np.float64)
    moving = (pmra != 0) | (pmdec != 0)
    if moving.any():
        t = np.broadcast_to(np.asarray(mjd, dtype=np.float64), ra.shape)[moving]
        dt = (t - np.broadcast_to(epoch_mjd, ra.shape)[moving]) / DAYS_PER_JULIAN_YEAR
        ra[moving], dec[moving] = to_radec(
            propagate(ra[moving], dec[moving], pmra[moving], pmdec[moving], dt)
        )
    return ra, dec


def to_radec(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RA in [0, 360) and Dec (deg) of unit vectors (N, 3)."""
    v = np.asarray(vectors, dtype=np.float64).reshape(-1, 3)
    ra = np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 360.0
    dec = np.degrees(np.arctan2(v[:, 2], np.hypot(v[:, 0], v[:, 1])))
    return ra, dec


@dataclass(frozen=True)
class Motion:
    """Proper motions of a set of targets, for matching within one MJD range (a survey year).

    Attributes
    ----------
    pmra, pmdec : numpy.ndarray
        μα* and μδ (mas/yr); 0 for targets that do not move.
    epoch_mjd : numpy.ndarray
        Reference epoch of each target's position (MJD).
    mjd_range : tuple of float
        The times the detections are expected in (:func:`year_mjd_range`).
    centre_ra, centre_dec : numpy.ndarray
        Each target's position (deg) at the middle of ``mjd_range``: the centre of its coarse
        cone (a still target's own position).
    reach : numpy.ndarray
        The most each target moves from that position within ``mjd_range`` (arcsec):
        :func:`reach_arcsec` from the middle of the range, so a coarse cone is as wide for an
        old reference epoch as for a recent one.
    """

    pmra: np.ndarray
    pmdec: np.ndarray
    epoch_mjd: np.ndarray
    mjd_range: tuple[float, float]
    centre_ra: np.ndarray
    centre_dec: np.ndarray
    reach: np.ndarray

    @classmethod
    def of(cls, frame, years) -> Motion | None:
        """The motion of a frame's targets (:data:`COLUMNS`) over ``years``; None when the
        frame has no motion columns or no target moves."""
        if not has_motion(frame):
            return None
        pmra, pmdec, epoch = proper_motions(frame)
        if not ((pmra != 0) | (pmdec != 0)).any():
            return None
        span = year_mjd_range(years)
        mid = 0.5 * (span[0] + span[1])
        cra, cdec = positions_at(frame["ra"], frame["dec"], pmra, pmdec, epoch, mid)
        reach = reach_arcsec(pmra, pmdec, np.full(len(cra), mid), span)
        return cls(pmra, pmdec, epoch, span, cra, cdec, reach)

    @property
    def moving(self) -> np.ndarray:
        """Which targets move."""
        return (self.pmra != 0) | (self.pmdec != 0)

    def distances(self, vectors, ra, dec, target, det_vectors, mjd) -> np.ndarray:
        """Great-circle distance (arcsec) of each (target, detection) pair: from the target's
        position at the detection's ``mjd`` to the detection (unit vectors ``det_vectors``).

        ``vectors``, ``ra``, ``dec``: the targets' unit vectors and positions (deg) at their
        epochs; ``target``: each pair's target index.

        Raises
        ------
        MotionRangeError
            A moving target's detection lies outside :attr:`mjd_range` (its cone was widened
            only for that range).
        """
        from . import sky

        mjd = np.asarray(mjd, dtype=np.float64)
        lo, hi = self.mjd_range
        moving = self.moving[target]
        outside = moving & ~((mjd >= lo) & (mjd <= hi))
        if outside.any():
            raise MotionRangeError(
                f"a detection at MJD {mjd[outside][0]!r} lies outside MJD {lo:g}-{hi:g}, the range "
                "assumed for this survey year when widening moving targets' cones "
                "(neowise_lightcurves.motion.YEAR_MJD); set match.proper_motion: false to "
                "match without proper motion"
            )
        ref = vectors[target]
        if moving.any():
            t = target[moving]
            dt = (mjd[moving] - self.epoch_mjd[t]) / DAYS_PER_JULIAN_YEAR
            ref = ref.copy()
            ref[moving] = propagate_vectors(
                vectors[t], ra[t], dec[t], self.pmra[t], self.pmdec[t], dt
            )
        return sky.chord_to_arcsec(np.linalg.norm(ref - det_vectors, axis=1))
