"""Physical units of the W1 and W2 photometry: each exposure's zero point, flux densities in mJy
on one scale from 2010 to 2024, Vega magnitudes, and saturation.

The catalogue's profile-fit fluxes (``w1flux``, ``w2flux``; the AllWISE MEP's ``w?flux_ep``)
are uncalibrated counts (DN): the factor from DN to a magnitude, the zero point ``ZP`` in::

    m = ZP - 2.5 log10(DN)

is not a constant of the tables. Real IRSA rows (:data:`PERIOD_ZERO_POINTS`) give W1 20.7609
from mid 2017 on and W2 19.6436 from mid 2016 on, up to 20.772 / 19.669 in Dec 2013 - mid 2014,
steps of 0.001-0.028 mag between (the calibration changed between NEOWISE-R's data releases),
and 20.500 / 19.500 in the AllWISE MEP (2010-2011): light curves in DN carry steps of up to
~2.6 % within NEOWISE (~27 % in W1, ~14 % in W2 between the MEP and NEOWISE) that the magnitudes
do not.

So every exposure gets its own zero point (:func:`zero_points`): ``ZP = mpro + 2.5 log10(DN)``
where the catalogue gives both (a positive flux and a measured magnitude, i.e. not an upper
limit: an upper limit's ``mpro`` is not computed from ``DN``); for the others the median of
those of its visit and band; for a visit with none, its calibration period's
(:data:`PERIOD_ZERO_POINTS`: the median measured on real rows, a constant, so that a light
curve never depends on which other targets a job holds). Its flux density is then::

    F_nu [mJy] = 1000 F_nu0 10**(-0.4 ZP) DN

for NEOWISE and the MEP alike (:func:`flux_densities`), with ``F_nu0`` the zero-magnitude flux
density of Vega in the band, :data:`F_NU0_JY`: 309.540 Jy in W1 and 171.787 Jy in W2 (WISE
All-Sky Release Explanatory Supplement, section IV.4.h.i.1, Eq. 1; Jarrett et al. 2011, ApJ
735, 112). They hold for a source with ``F_nu ∝ nu**-2``; a source of another spectrum needs the
colour corrections of section IV.4.h.vi, which are not applied. A negative flux keeps its sign,
and an error in DN scales by the same factor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

BANDS = ("w1", "w2")

#: Zero-magnitude flux densities (Jy) of W1 and W2 (Explanatory Supplement IV.4.h.i.1; Jarrett
#: et al. 2011), for an ``F_nu ∝ nu**-2`` spectrum.
F_NU0_JY = {"w1": 309.540, "w2": 171.787}

#: Zero points (mag) by time, per band: ``(first MJD, ZP)`` steps, each holding until the next.
#: Measured on real IRSA rows (the 16,878 NEOWISE-R and 2,140 AllWISE MEP rows of 63 objects in
#: timewise's test data, ``tests/data/photometry/`` of JannisNe/timewise, MIT licence): the
#: median of ``mpro + 2.5 log10(flux)`` over the measured exposures between the steps, where
#: those change by more than 0.001 mag (``python benchmarks/zero_points.py`` prints the medians
#: again; tests/test_realrows.py checks them on the subset in tests/data/timewise). Within a
#: step the rows scatter by ±0.0005 mag (the magnitudes' rounding), except Dec 2013 - Feb 2014,
#: when W1 rose from 20.765 to 20.771 and W2 from 19.656 to 19.668. The first step is the AllWISE
#: MEP's (2010-2011: 20.500, 19.500, as AllWISE's Atlas zero points); the last, NEOWISE's from
#: mid 2017 (W1) or mid 2016 (W2) on, is also what an exposure later than the real rows gets.
PERIOD_ZERO_POINTS = {
    "w1": (
        (0.0, 20.500),
        (56600.0, 20.7684),
        (56700.0, 20.7716),
        (56849.0, 20.7597),
        (57000.7, 20.7570),
        (57071.5, 20.7603),
        (57280.0, 20.7621),
        (57909.3, 20.7609),
    ),
    "w2": (
        (0.0, 19.500),
        (56600.0, 19.6624),
        (56700.0, 19.6688),
        (56828.5, 19.6635),
        (56849.0, 19.6419),
        (57000.7, 19.6497),
        (57071.5, 19.6451),
        (57280.0, 19.6412),
        (57521.0, 19.6436),
    ),
}
#: NEOWISE-R's latest zero points (mag; W1 from mid 2017, W2 from mid 2016): the last of
#: :data:`PERIOD_ZERO_POINTS`.
ZERO_POINT = {b: PERIOD_ZERO_POINTS[b][-1][1] for b in BANDS}

#: Vega magnitudes brighter than which a single exposure's profile-fit photometry is
#: saturated: W1 8.1, W2 6.7, the onsets quoted from the WISE All-Sky Release Explanatory
#: Supplement (section VI.3; its pages could not be read from here to confirm the decimals).
#: The NEOWISE supplement (II.1.c.iv, "Saturated Source Photometry", quoted second-hand)
#: describes little W1 bias for ~4 mag beyond saturation, then fluxes underestimated, and a W2
#: flux overestimate from ~0.5 mag past saturation: neither is corrected here, the exposures are
#: flagged (``w?saturated``) and counted in the summary.
SATURATION_MAG = {"w1": 8.1, "w2": 6.7}

#: Per-exposure columns :func:`flux_densities` gives, per band ``b``: ``{b}zp`` (mag),
#: ``{b}flux_mjy``, ``{b}sigflux_mjy`` (mJy), ``{b}saturated``.
EXPOSURE_COLUMNS = tuple(
    f"{b}{name}" for b in BANDS for name in ("zp", "flux_mjy", "sigflux_mjy", "saturated")
)
_UNITS = {"zp": "mag", "flux_mjy": "mJy", "sigflux_mjy": "mJy", "saturated": ""}
_DESCRIPTIONS = {
    "zp": "{B} zero point of this exposure's flux: mpro + 2.5 log10(flux), else its visit's "
    "median, else its calibration period's",
    "flux_mjy": "{B} flux density: 1000 F_nu0 10**(-0.4 zp) flux",
    "sigflux_mjy": "{B} flux density error: 1000 F_nu0 10**(-0.4 zp) sigflux",
    "saturated": "{B} brighter than the saturation limit ({mag} mag)",
}


def mag_to_mjy(mag, band: str):
    """Vega magnitude in ``band`` as a flux density (mJy): ``1000 F_nu0 10**(-0.4 mag)``."""
    return 1000.0 * F_NU0_JY[band] * 10 ** (-0.4 * np.asarray(mag, dtype=float))


def mjy_to_mag(mjy, band: str):
    """Flux density (mJy) in ``band`` as a Vega magnitude (NaN where not positive)."""
    f = np.asarray(mjy, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(f > 0, -2.5 * np.log10(f / (1000.0 * F_NU0_JY[band])), np.nan)


def period_ranges(band: str):
    """The steps of :data:`PERIOD_ZERO_POINTS` of ``band`` as ``(first MJD, end MJD, ZP)``
    (the last ending at infinity)."""
    steps = PERIOD_ZERO_POINTS[band]
    ends = [s[0] for s in steps[1:]] + [np.inf]
    return [(start, end, zp) for (start, zp), end in zip(steps, ends, strict=True)]


def period_zero_points(mjd, band: str) -> np.ndarray:
    """Zero point (mag) of ``band`` at times ``mjd`` (d) from :data:`PERIOD_ZERO_POINTS`."""
    starts, values = (np.array(v) for v in zip(*PERIOD_ZERO_POINTS[band], strict=True))
    at = np.searchsorted(starts, np.asarray(mjd, dtype=float), side="right") - 1
    return values[np.clip(at, 0, len(values) - 1)]


def exposure_zero_points(flux, mag, sigmag) -> np.ndarray:
    """Each exposure's own zero point ``mag + 2.5 log10(flux)`` (mag), NaN where the flux is
    not positive or the magnitude is missing or an upper limit (``sigmag`` null)."""
    flux, mag, sigmag = (np.asarray(v, dtype=float) for v in (flux, mag, sigmag))
    ok = (flux > 0) & np.isfinite(mag) & np.isfinite(sigmag)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, mag + 2.5 * np.log10(np.where(ok, flux, 1.0)), np.nan)


def zero_points(frame: pd.DataFrame, band: str, visits: np.ndarray) -> np.ndarray:
    """Zero point (mag) of every exposure of ``frame`` in ``band``: its own
    (:func:`exposure_zero_points`), else the median of its visit's own ones, else its
    calibration period's (:func:`period_zero_points`).

    Parameters
    ----------
    frame : pandas.DataFrame
        Single exposures: ``mjd`` (d), ``{band}flux`` (DN) and, where the table has them,
        ``{band}mpro``, ``{band}sigmpro`` (mag); without them every exposure gets its period's.
    band : str
        ``"w1"`` or ``"w2"``.
    visits : numpy.ndarray
        Each row's visit, as a number unique over the table (e.g. the ``group`` of
        :func:`neowise_lightcurves.binning.epochs`).
    """
    mag, sig = f"{band}mpro", f"{band}sigmpro"
    if mag in frame.columns and sig in frame.columns:
        own = exposure_zero_points(frame[f"{band}flux"], frame[mag], frame[sig])
    else:
        own = np.full(len(frame), np.nan)
    visit = pd.Series(own).groupby(np.asarray(visits)).transform("median").to_numpy()
    period = period_zero_points(frame["mjd"], band)
    return np.where(np.isfinite(own), own, np.where(np.isfinite(visit), visit, period))


def flux_densities(frame: pd.DataFrame, visits: np.ndarray) -> pd.DataFrame:
    """The :data:`EXPOSURE_COLUMNS` of the single exposures ``frame`` (``mjd``, ``w?flux``,
    ``w?sigflux``, and ``w?mpro``, ``w?sigmpro`` where present): each exposure's zero point
    (:func:`zero_points`; ``visits`` as there), its flux and error as flux densities (mJy; null
    where the DN value is), and whether its magnitude is brighter than :data:`SATURATION_MAG`.
    """
    out = {}
    for b in BANDS:
        zp = zero_points(frame, b, visits)
        scale = mag_to_mjy(zp, b)  # one DN is a source of magnitude ZP
        out[f"{b}zp"] = zp
        out[f"{b}flux_mjy"] = frame[f"{b}flux"].to_numpy(dtype=float, na_value=np.nan) * scale
        sig = frame[f"{b}sigflux"].to_numpy(dtype=float, na_value=np.nan)
        out[f"{b}sigflux_mjy"] = sig * scale
        mag = frame.get(f"{b}mpro")
        mag = np.full(len(frame), np.nan) if mag is None else mag.to_numpy(float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            out[f"{b}saturated"] = mag < SATURATION_MAG[b]
    return pd.DataFrame(out, index=frame.index)


def with_flux_densities(table: pa.Table, visits: np.ndarray) -> pa.Table:
    """``table`` (single exposures, Arrow) with the :data:`EXPOSURE_COLUMNS`
    (:func:`flux_densities`) right after its last DN flux column, each field's metadata giving
    its ``unit`` and ``description``; null where the value is NaN."""
    names = ["mjd"] + [f"{b}{c}" for b in BANDS for c in ("flux", "sigflux", "mpro", "sigmpro")]
    frame = table.select([c for c in names if c in table.column_names]).to_pandas()
    values = flux_densities(frame, visits)
    at = max(table.column_names.index(f"{b}{c}") for b in BANDS for c in ("flux", "sigflux")) + 1
    for i, name in enumerate(EXPOSURE_COLUMNS):
        band, kind = name[:2], name[2:]
        meta = {"description": _DESCRIPTIONS[kind].format(B=band.upper(), mag=SATURATION_MAG[band])}
        if _UNITS[kind]:
            meta["unit"] = _UNITS[kind]
        kind_type = pa.bool_() if kind == "saturated" else pa.float64()
        field = pa.field(name, kind_type, metadata=meta)
        table = table.add_column(at + i, field, pa.array(values[name], kind_type, from_pandas=True))
    return table
