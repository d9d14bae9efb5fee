"""Visit binning: one point per target, epoch and band from the single exposures of a visit.

Epochs are split at gaps longer than ``gap_days`` (:func:`epochs`, the one epoch splitter of the
package: binning, the zero points, the summary and the figures all use it). Binning works on
the flux densities (mJy, :mod:`neowise_lightcurves.photometry`: each exposure on its own zero
point, one scale from 2010 to 2024), never on the catalogue's uncalibrated DN. Within an epoch,
each band's fluxes are sigma-clipped iteratively about their median (``sigma`` times the
normalised median absolute deviation, at most ``iterations`` rounds); the binned flux is the
median of what remains, its error the larger of the standard error of the median
(``sqrt(pi/2) * 1.4826 MAD / sqrt(n)``) and the propagated single-exposure errors
(``sqrt(sum sigma_i^2) / n``). An epoch is an upper limit when its binned SNR < 2 or it has no
measured flux (:func:`bin_visits`); its magnitude is then the 2-sigma limit of
``max(flux, 0) + 2 err``. Everything is vectorised over all targets and epochs at once (pandas
groupby).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .association import centroid_scatter
from .photometry import EXPOSURE_COLUMNS, flux_densities, mjy_to_mag

BANDS = ("w1", "w2")
MAD_TO_SIGMA = 1.4826
UPPER_LIMIT_SNR = 2.0


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


def clip_mask(values: pd.Series, groups: np.ndarray, sigma: float, iterations: int) -> np.ndarray:
    """Rows kept by iterative median/MAD sigma clipping within each group (NaN never kept)."""
    keep = values.notna().to_numpy()
    v = values.to_numpy(dtype=float)
    for _ in range(iterations):
        kept = pd.Series(np.where(keep, v, np.nan))
        med = kept.groupby(groups).transform("median").to_numpy()
        dev = np.abs(v - med)
        mad = pd.Series(np.where(keep, dev, np.nan)).groupby(groups).transform("median").to_numpy()
        width = sigma * MAD_TO_SIGMA * mad
        new = keep & ((dev <= width) | ~(width > 0))
        if (new == keep).all():
            break
        keep = new
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
    split at gaps > ``gap_days`` (d, :func:`epochs`), flux densities clipped at ``sigma`` x
    normalised MAD about their median, at most ``iterations`` rounds (:func:`clip_mask`).

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
        keep = clip_mask(flux.where(err.notna()), groups, sigma, iterations)
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
