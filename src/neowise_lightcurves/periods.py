"""Periods: a Lomb–Scargle periodogram of each target's single exposures, over a frequency grid
suited to NEOWISE's cadence.

NEOWISE sees a position in visits of about a day, one exposure per orbit (~94.6 min, ~15.2 per
day), a visit every ~6 months. Periods of hours show within visits, periods of years across
them. The grid runs from 1/baseline to ``max_frequency_per_day``; its spacing is
1/(``oversampling`` x baseline). The exposures are nearly regular at the orbital frequency, so
every frequency f above half of it (~7.6 per day) has an alias of about equal power at the
orbital frequency minus f: a grid beyond ~7.6 per day doubles the cost and adds only mirrors.

The periodogram is computed with astropy's fast method (Press & Rybicki's extirpolation, power
good to ~1e-3); the highest local maxima (:data:`CANDIDATES`, and every one within
:data:`NEAR_TOP` of the highest) are then re-evaluated exactly on a grid ten times finer around
each, and the highest of those is the period. Its false-alarm
probability is Baluev's (2008) bound (:func:`false_alarm_probability`). A best frequency within
one resolution element (1/baseline) of a strong peak of the window function (the periodogram
of the sampling itself: near zero, the ~6-month visit cadence and its multiples, the orbital
frequency) is flagged as a possible alias: the sampling alone makes a peak there.

Visits are ~6 months apart, so a period shorter than a visit has aliases k/182.6 per day apart
in frequency, told apart only by phase drifts within the visits: with visits of a day or two
their powers differ by noise, and the period is known to about P²/182.6 d (0.0005 d at 0.29 d).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Summary columns this module adds.
COLUMNS = ("period_days", "period_power", "period_fap", "period_significant", "period_alias")
#: A target without a period (too few exposures, an empty grid, nothing to fit).
NO_PERIOD = dict(period_days=np.nan, period_power=np.nan, period_fap=np.nan, period_alias=False)
#: Local maxima of the coarse periodogram that are re-evaluated exactly: the highest
#: ``CANDIDATES``, and all with ``NEAR_TOP`` of the highest power, at most ``MAX_CANDIDATES``.
CANDIDATES = 10
NEAR_TOP = 0.95
MAX_CANDIDATES = 300
#: Points per grid step of the exact re-evaluation around a candidate.
REFINE = 10


def frequency_grid(baseline_days: float, max_frequency_per_day: float, oversampling: float):
    """The grid: from 1/baseline to ``max_frequency_per_day`` (1/d), a step of
    1/(``oversampling`` x baseline); an empty array when the baseline is shorter than the
    shortest period."""
    if not baseline_days > 0:
        return np.array([])
    f0 = 1.0 / baseline_days
    df = f0 / oversampling
    n = int(np.floor((max_frequency_per_day - f0) / df)) + 1
    return f0 + df * np.arange(max(n, 0))


def _exact(t, y, dy, freq, **kw):
    from astropy.timeseries import LombScargle

    return LombScargle(t, y, dy, **kw).power(freq, method="cython")


def window_power(t: np.ndarray, dy: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """The window function at ``freq`` (1/d): the Lomb–Scargle power of a constant sampled at
    ``t`` with weights 1/``dy``², neither centred nor fitted with a mean (1 at zero frequency
    and wherever the sampling repeats itself)."""
    return _exact(t, np.ones_like(t), dy, freq, fit_mean=False, center_data=False)


def false_alarm_probability(power: float, t: np.ndarray, dy: np.ndarray, fmax: float) -> float:
    """Baluev's (2008, eq. 6 and Table 1) alias-free bound on the probability that white noise
    alone makes a peak of at least ``power`` (standard normalisation, floating mean) anywhere
    below ``fmax`` (1/d), for exposures at ``t`` (d) with errors ``dy``.

    The formula of astropy's ``LombScargle.false_alarm_probability(method="baluev")``, written
    here with :func:`math.lgamma` (astropy's needs SciPy, which this package does not).
    """
    n = len(t)
    nh, nk = n - 1, n - 3  # degrees of freedom: mean only; mean and sinusoid
    w = 1.0 / np.asarray(dy, float) ** 2
    mean_t = np.sum(w * t) / np.sum(w)
    var_t = np.sum(w * (t - mean_t) ** 2) / np.sum(w)
    gamma = math.sqrt(2 / nh) * math.exp(math.lgamma(nh / 2) - math.lgamma((nh - 1) / 2))
    z = float(power)
    tau = gamma * fmax * math.sqrt(4 * math.pi * var_t) * (1 - z) ** (0.5 * (nk - 1))
    tau *= math.sqrt(0.5 * nh * z)
    single = (1 - z) ** (0.5 * nk)
    return float(-math.expm1(-tau) + single * math.exp(-tau))


def best_period(
    t: np.ndarray,
    y: np.ndarray,
    dy: np.ndarray,
    max_frequency_per_day: float,
    oversampling: float,
    alias_window_power: float,
) -> dict:
    """The highest Lomb–Scargle peak of one light curve.

    Parameters
    ----------
    t, y, dy : numpy.ndarray
        Times (d), fluxes and their errors (any one unit), finite, ``dy`` > 0.
    max_frequency_per_day : float
        Highest frequency searched (1/d).
    oversampling : float
        Grid points per resolution element 1/baseline.
    alias_window_power : float
        Window power (0..1) from which a window peak within 1/baseline of the best frequency
        flags it as a possible alias.

    Returns
    -------
    dict
        ``period_days`` (d), ``period_power`` (standard normalisation: the fraction of χ² about
        the weighted mean that the sinusoid removes), ``period_fap`` (Baluev), ``period_alias``;
        NaN (and False) when the grid is empty.
    """
    from astropy.timeseries import LombScargle

    out = dict(NO_PERIOD)
    baseline = float(t.max() - t.min()) if len(t) else 0.0
    freq = frequency_grid(baseline, max_frequency_per_day, oversampling)
    if len(freq) < 3:
        return out
    ls = LombScargle(t, y, dy)
    power = ls.power(freq, method="fast", method_kwds={"algorithm": "fasper"})
    inner = np.flatnonzero((power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])) + 1
    peaks = np.concatenate([[0, len(freq) - 1], inner])
    peaks = peaks[np.argsort(power[peaks])[::-1]]
    # the visits' cycle-count aliases make many near-equal peaks, which the fast power's error
    # can reorder: all those near the highest are candidates
    near_top = int(np.sum(power[peaks] >= NEAR_TOP * power[peaks[0]]))
    peaks = peaks[: min(max(CANDIDATES, near_top), MAX_CANDIDATES)]
    df = freq[1] - freq[0]
    steps = np.linspace(-1.0, 1.0, 2 * REFINE + 1) * df
    fine = np.clip((freq[peaks][:, None] + steps).ravel(), freq[0], freq[-1])
    fine_power = ls.power(fine, method="cython")
    i = int(np.argmax(fine_power))
    f_best, p_best = float(fine[i]), float(fine_power[i])
    if not np.isfinite(p_best):  # e.g. every flux equal: nothing to fit
        return out
    fap = false_alarm_probability(p_best, t, dy, float(freq[-1]))
    near = f_best + np.linspace(-1.0, 1.0, int(4 * oversampling) + 1) / baseline
    near = near[near > 0.01 / baseline]
    window = window_power(t, dy, near)
    out.update(
        period_days=1.0 / f_best,
        period_power=p_best,
        period_fap=float(np.clip(fap, 0.0, 1.0)),
        period_alias=bool(window.max() >= alias_window_power),
    )
    return out


def periods(lightcurves: pd.DataFrame, options: dict) -> pd.DataFrame:
    """The best period of every target with enough detections.

    Parameters
    ----------
    lightcurves : pandas.DataFrame
        Single exposures after the cuts: ``target_id``, ``mjd`` (d), and ``{band}flux_mjy``,
        ``{band}sigflux_mjy`` (mJy, one scale over every year: DN would carry the steps of the
        catalogue's zero points) of the band ``options["band"]``.
    options : dict
        ``band`` (``w1`` or ``w2``), ``min_detections`` (exposures with a flux and a positive
        error), ``max_frequency_per_day`` (1/d), ``oversampling``, ``fap_threshold``,
        ``alias_window_power``: see :func:`best_period`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``target_id``, one row per target of ``lightcurves`` with :data:`COLUMNS`;
        ``period_significant`` is ``period_fap < fap_threshold``. Targets with fewer exposures
        than ``min_detections`` get NaN (and False).
    """
    band = options["band"]
    flux, err = f"{band}flux_mjy", f"{band}sigflux_mjy"
    ok = np.isfinite(lightcurves[flux]) & np.isfinite(lightcurves[err]) & (lightcurves[err] > 0)
    rows = []
    ids = pd.unique(lightcurves["target_id"])
    use = lightcurves[ok]
    groups = dict(tuple(use.groupby("target_id", sort=False)))
    for tid in ids:
        one = groups.get(tid)
        if one is None or len(one) < options["min_detections"]:
            res = dict(NO_PERIOD)
        else:
            res = best_period(
                one["mjd"].to_numpy(float),
                one[flux].to_numpy(float),
                one[err].to_numpy(float),
                options["max_frequency_per_day"],
                options["oversampling"],
                options["alias_window_power"],
            )
        rows.append(res)
    frame = pd.DataFrame(rows, index=pd.Index(ids, name="target_id"))
    if frame.empty:  # the columns and their types all the same
        frame = pd.DataFrame([NO_PERIOD]).iloc[:0]
        frame.index = pd.Index([], name="target_id", dtype=object)
    frame["period_significant"] = frame["period_fap"] < options["fap_threshold"]
    return frame[list(COLUMNS)]
