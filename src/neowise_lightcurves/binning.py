"""Visit binning: one point per target, epoch and band from the single exposures of a visit.

Epochs are split at gaps longer than ``gap_days`` (:func:`epochs`, the one epoch splitter of the
package: binning, the zero points, the summary and the figures all use it). Binning works on
the flux densities (mJy, :mod:`neowise_lightcurves.photometry`: each exposure on its own zero
point, one scale from 2010 to 2024), never on the catalogue's uncalibrated DN. Within an epoch,
each band's flux densities are sigma-clipped about their median (:func:`clip_mask`: beyond a
width in units of the normalised median absolute deviation, widened for small epochs so that
Gaussian noise is rejected at the rate of a ``sigma`` cut whatever the epoch's size; the median
re-taken from the kept fluxes for at most ``iterations`` rounds); the binned flux is the
median of what remains, its error the larger of the standard error of the median
(``sqrt(pi/2) * 1.4826 MAD / sqrt(n)``) and the propagated single-exposure errors
(``sqrt(sum sigma_i^2) / n``). An epoch is an upper limit when its binned SNR < 2 or it has no
measured flux (:func:`bin_visits`); its magnitude is then the 2-sigma limit of
``max(flux, 0) + 2 err``. Everything is vectorised over all targets and epochs at once (pandas
groupby).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from .association import centroid_scatter
from .photometry import BANDS, EXPOSURE_COLUMNS, flux_densities, mjy_to_mag

MAD_TO_SIGMA = 1.4826
UPPER_LIMIT_SNR = 2.0

# clip_limit's calibration. The ratio |x - median| / (1.4826 MAD) of a value x of a Gaussian
# sample of n values is modelled as a * |T|, T Student's t with nu degrees of freedom (the noise
# of the MAD as an estimate of sigma; the shape of the tail), with m = 2 floor(n / 2) (an odd
# sample's MAD counts the median's own zero deviation, so nu follows the even size below):
#   nu = s m + c0 + c1 / m,    a = (1 - b0 / m + b1 / m^2) (1 + b2 [n odd] / m^2).
# The six numbers: a least-squares fit of log(a t_nu quantile) to the quantiles of the ratio
# simulated at the tail probabilities of sigma = 2, 2.5, ..., 5 (weights 1/2 at 2 and 5) for
# n = 5..40, 45, 50, 60, 70, 80, 100, 130, 160, 200, 300, 10^8 values each:
# `python benchmarks/clipping.py --calibrate --samples 1e8` (seed 1) printed them. The fitted
# slope s = 0.39 is near the large-n value 0.37 (the MAD's asymptotic variance 1.36 sigma^2 / n
# is that of a chi estimate with nu = n / 2.72). Against an independent simulation the model's
# thresholds give rejection rates within 0.89-1.11 x P(|z| > sigma) for sigma 2 to 4.5 at
# every n >= 3 (outside that range it is an extrapolation; at sigma 1.5 it rejects up to 20 %
# fewer). n = 3 and 4 have (nu, a) fitted on their own (n = 3: nu = 1, a Cauchy tail).
CLIP_DOF = (0.3926, 0.8448, -1.7665)  # s, c0, c1
CLIP_SCALE = (0.1998, -2.0915, 1.3195)  # b0, b1, b2
CLIP_SMALL_N = {3: (0.9979, 0.574), 4: (2.0047, 0.7932)}  # n: (nu, a)


def epochs(target_id, mjd, gap_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Split light curves into epochs (visits).

    Parameters
    ----------
    target_id : array_like
        Each row's target; rows sorted by target, then time.
    mjd : array_like
        Each row's time (d).
    gap_days : float
        A new epoch starts after a gap longer than this (d), and at each new target.

    Returns
    -------
    group, epoch : numpy.ndarray of int64
        Each row's running (target, epoch) group number over the whole table (groups are
        contiguous), and its epoch number within its target (0, 1, ...).
    """
    tid = np.asarray(target_id, dtype=object)
    mjd = np.asarray(mjd, dtype=float)
    new_target = np.ones(len(tid), dtype=bool)
    new_target[1:] = tid[1:] != tid[:-1]
    start = new_target.copy()
    start[1:] |= np.diff(mjd) > gap_days
    group = np.cumsum(start) - 1
    first_of_target = np.maximum.accumulate(np.where(new_target, group, 0))
    return group.astype(np.int64), (group - first_of_target).astype(np.int64)


def t_quantile(sigma: float, nu: float) -> float:
    """t with P(|T| > t) = P(|z| > sigma), T Student's t with ``nu`` (> 0, real) degrees of
    freedom, z standard normal: ``scipy.special``'s Student-t inverse (``stdtrit``) at the
    normal tail ``ndtr(-sigma)``, as ``scipy.stats.t.isf(norm.sf(sigma), nu)`` but without
    importing ``scipy.stats`` (~0.5 CPU-s at every light-curve job's start)."""
    from scipy import special

    return float(-special.stdtrit(nu, special.ndtr(-sigma)))


@lru_cache(maxsize=4096)
def clip_limit(n: int, sigma: float) -> float:
    """:func:`clip_mask`'s half-width, in units of 1.4826 x the MAD of ``n`` values, at which a
    Gaussian value is rejected with the probability ``P(|z| > sigma)`` of a ``sigma`` cut.

    ``a(n) * t_nu(n)``: the two-sided Student-t quantile at that probability, with the effective
    degrees of freedom ``nu(n)`` and the scale ``a(n)`` fitted to simulations (``CLIP_DOF``,
    ``CLIP_SCALE``, ``CLIP_SMALL_N``; ``benchmarks/clipping.py``). It tends to ``sigma`` as ``n``
    grows. Infinite for ``n < 3`` (nothing to judge by).
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, not {sigma}")
    if n < 3:
        return math.inf
    if n in CLIP_SMALL_N:
        nu, a = CLIP_SMALL_N[n]
    else:
        m = 2 * (n // 2)
        s, c0, c1 = CLIP_DOF
        b0, b1, b2 = CLIP_SCALE
        nu = s * m + c0 + c1 / m
        a = (1 - b0 / m + b1 / m**2) * (1 + b2 * (n % 2) / m**2)
    return a * t_quantile(float(sigma), nu)


def clip_mask(values: pd.Series, groups: np.ndarray, sigma: float, iterations: int) -> np.ndarray:
    """Rows kept by sigma clipping within each group, calibrated for small groups.

    In a group of ``n`` finite values (rows with NaN are never kept), a value is rejected when
    it lies more than ``clip_limit(n, sigma) * 1.4826 * MAD`` from the median, the MAD (median
    absolute deviation about the median) being that of all ``n`` values. That width is fixed by
    the first round; each further round, ``iterations`` in all, re-takes only the median of the
    values still kept and rejects what lies more than the same width from it. ``clip_limit``
    makes the probability that a value of Gaussian noise is rejected that of a ``sigma`` cut,
    ``P(|z| > sigma)``, at every ``n``: the MAD of a few values is noisy and often small, so the
    limit is wider for small groups (at ``sigma = 3``: 17.6 at n = 5, 5.6 at n = 10, 4.1 at
    n = 20, 3.2 at n = 100).

    Measured on Gaussian noise (``python benchmarks/clipping.py``: sigma 3, 5 rounds, 500,000
    values per n): 0.25-0.30 % of the values rejected at every n from 3 to 200 (a 3-sigma cut:
    0.27 %). The rule this replaced, which re-estimated the MAD from the kept values every round
    and cut at ``sigma`` x 1.4826 MAD, rejected 9.4 % at n = 5, 4.4 % at n = 10 and 2.1 % at
    n = 20. The price is power at small n: a single 10-sigma outlier is removed in 19 % of
    groups of 5, 82 % of 8, 93 % of 10 and >= 99 % from n = 14; two of them in >= 99 % from
    n = 16; a 100-sigma one from n = 4. No rule that rejects only 0.27 % of Gaussian values
    comes close to 99 % at n = 5: the best test of a single outlier, against the mean and
    standard deviation of the other values, removes ~58 % at n = 5, ~88 % at 6, ~97 % at 7; the
    rest of the gap is the MAD's low efficiency (~37 %), the price of its robustness.

    Parameters
    ----------
    values : pandas.Series
        The values, NaN where there is none.
    groups : numpy.ndarray
        Each row's group (labels pandas can group by).
    sigma : float
        The Gaussian cut (> 0) whose rejection rate the rule has.
    iterations : int
        Rounds, at most (stops when one rejects nothing); 0 keeps every finite value.

    Returns
    -------
    numpy.ndarray of bool
        Each row: kept. A group of one or two finite values keeps them (nothing to judge by),
        and so does one whose MAD is 0 (at least half its values equal).
    """
    keep = values.notna().to_numpy()
    if iterations < 1 or not keep.any():
        return keep
    v = values.to_numpy(dtype=float)
    kept = pd.Series(np.where(keep, v, np.nan))
    by = kept.groupby(groups)
    n = by.transform("count").to_numpy()
    med = by.transform("median").to_numpy()
    dev = np.abs(v - med)
    mad = pd.Series(np.where(keep, dev, np.nan)).groupby(groups).transform("median").to_numpy()
    sizes, where = np.unique(n, return_inverse=True)
    limit = np.array([clip_limit(int(m), float(sigma)) for m in sizes])[where.reshape(-1)]
    width = np.full(len(v), np.inf)  # n <= 2, MAD 0 or NaN: nothing to judge by
    ok = (limit < np.inf) & (mad > 0)
    width[ok] = limit[ok] * MAD_TO_SIGMA * mad[ok]
    for _ in range(iterations):
        new = keep & (dev <= width)
        if (new == keep).all():
            break
        keep = new
        med = pd.Series(np.where(keep, v, np.nan)).groupby(groups).transform("median").to_numpy()
        dev = np.abs(v - med)
    return keep


def _median_and_error(values, errors, keep: np.ndarray, groups: np.ndarray):
    """Per group: the points ``keep`` holds, their median, and its error (the larger of the
    median's standard error from the MAD and the propagated ``errors``)."""
    f = pd.Series(np.where(keep, values, np.nan))
    e2 = pd.Series(np.where(keep, np.asarray(errors, dtype=float) ** 2, np.nan))
    n = f.groupby(groups).count().to_numpy()
    med = f.groupby(groups).median().to_numpy()
    mad = (f - f.groupby(groups).transform("median")).abs().groupby(groups).median().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = np.sqrt(np.pi / 2) * MAD_TO_SIGMA * mad / np.sqrt(n)
        propagated = np.sqrt(e2.groupby(groups).sum(min_count=1).to_numpy()) / n
    return n, med, np.fmax(sem, propagated)


def bin_visits(
    lightcurves: pd.DataFrame, gap_days: float, sigma: float, iterations: int
) -> pd.DataFrame:
    """One row per (target, epoch) of a light-curve table sorted by target then ``mjd``: epochs
    split at gaps > ``gap_days`` (d, :func:`epochs`), flux densities clipped about their median
    as a ``sigma`` cut would clip Gaussian noise, at most ``iterations`` rounds
    (:func:`clip_mask`).

    The flux densities are the table's ``w?flux_mjy``, ``w?sigflux_mjy``
    (:func:`neowise_lightcurves.photometry.flux_densities`, computed here from the DN, the
    magnitudes and the epochs where the table lacks them).

    Columns: ``target_id, epoch, mjd, mjd_min, mjd_max, n_detections``, then for each band
    ``b`` in W1, W2: ``{b}_flux_mjy, {b}_flux_err_mjy`` (median flux density of the exposures
    kept and its error, mJy), ``{b}_flux, {b}_flux_err`` (the same of the catalogue's
    uncalibrated DN, same exposures), ``{b}_n`` (points kept), ``{b}_mjd`` (their mean time),
    ``{b}_mag, {b}_mag_err`` (Vega, from the flux density), ``{b}_upper_limit`` (binned SNR < 2,
    or no flux: ``{b}_mag`` is then the magnitude of ``max(flux, 0) + 2 err``); and, when the
    light curves have ``ra`` and ``dec``, ``pos_scatter_arcsec``: the robust positional scatter
    of the epoch's detections about their own centroid (arcsec,
    :func:`neowise_lightcurves.association.centroid_scatter`; NaN for a single detection).
    """
    lc = lightcurves.reset_index(drop=True)
    groups, epoch = epochs(lc["target_id"].to_numpy(), lc["mjd"].to_numpy(dtype=float), gap_days)
    if not all(c in lc.columns for c in EXPOSURE_COLUMNS):
        lc = lc.drop(columns=[c for c in EXPOSURE_COLUMNS if c in lc.columns])
        lc = lc.join(flux_densities(lc, groups))
    g = lc["mjd"].groupby(groups)
    out = pd.DataFrame(
        {"mjd": g.mean(), "mjd_min": g.min(), "mjd_max": g.max(), "n_detections": g.size()}
    )
    first = np.flatnonzero(np.diff(groups, prepend=-1))  # groups are contiguous
    out.insert(0, "epoch", epoch[first])
    out.insert(0, "target_id", lc["target_id"].iloc[first].array)  # its dtype, even when empty
    for b in BANDS:
        flux, err = lc[f"{b}flux_mjy"], lc[f"{b}sigflux_mjy"]
        keep = clip_mask(flux, groups, sigma, iterations)
        n, med, ferr = _median_and_error(flux, err, keep, groups)
        _, med_dn, err_dn = _median_and_error(lc[f"{b}flux"], lc[f"{b}sigflux"], keep, groups)
        t = pd.Series(np.where(keep, lc["mjd"], np.nan))
        with np.errstate(invalid="ignore", divide="ignore"):
            upper = ~(med / ferr >= UPPER_LIMIT_SNR)
            mag = np.where(upper, mjy_to_mag(np.fmax(med, 0) + 2 * ferr, b), mjy_to_mag(med, b))
            mag_err = np.where(upper, np.nan, 2.5 / np.log(10) * ferr / med)
        out[f"{b}_flux_mjy"] = med
        out[f"{b}_flux_err_mjy"] = ferr
        out[f"{b}_flux"] = med_dn
        out[f"{b}_flux_err"] = err_dn
        out[f"{b}_n"] = n
        out[f"{b}_mjd"] = t.groupby(groups).mean().to_numpy()
        out[f"{b}_mag"] = mag
        out[f"{b}_mag_err"] = mag_err
        out[f"{b}_upper_limit"] = upper
    if "ra" in lc.columns and "dec" in lc.columns:
        out["pos_scatter_arcsec"] = centroid_scatter(lc["ra"], lc["dec"], groups)
    return out.reset_index(drop=True)


def variability(binned: pd.DataFrame) -> pd.DataFrame:
    """Per target and band, from the binned epochs that are not upper limits, on their flux
    densities (mJy: one scale over every year and calibration period).

    ``{b}_chi2_red``: reduced chi-square of the binned fluxes about their weighted mean;
    ``{b}_scatter``: standard deviation of the binned fluxes over their median;
    ``{b}_amplitude_mag``: brightest to faintest binned magnitude; ``{b}_n_epochs`` used.
    """
    per = {}
    for b in BANDS:
        ok = binned[~binned[f"{b}_upper_limit"]]
        f, e, m = ok[f"{b}_flux_mjy"], ok[f"{b}_flux_err_mjy"], ok[f"{b}_mag"]
        tid = ok["target_id"]
        w = 1 / e**2
        wmean = (f * w).groupby(tid).transform("sum") / w.groupby(tid).transform("sum")
        resid2 = ((f - wmean) / e) ** 2
        n = f.groupby(tid).count()
        per[f"{b}_n_epochs"] = n
        per[f"{b}_chi2_red"] = resid2.groupby(tid).sum() / (n - 1).where(n > 1)
        per[f"{b}_scatter"] = f.groupby(tid).std() / f.groupby(tid).median()
        per[f"{b}_amplitude_mag"] = m.groupby(tid).max() - m.groupby(tid).min()
    return pd.DataFrame(per)
