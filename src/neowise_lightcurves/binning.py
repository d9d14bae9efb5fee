"""Visit binning: one point per target, epoch and band from the single exposures of a visit.

Epochs are split at gaps longer than ``gap_days`` (:func:`epochs`, the one epoch splitter of the
package: binning, the summary and the figures all use it). Within an epoch,
each band's fluxes are sigma-clipped iteratively about their median (``sigma`` times the
normalised median absolute deviation, at most ``iterations`` rounds); the binned flux is the
median of what remains, its error the larger of the standard error of the median
(``sqrt(pi/2) * 1.4826 MAD / sqrt(n)``) and the propagated single-exposure errors
(``sqrt(sum sigma_i^2) / n``). An epoch is an upper limit when its binned SNR < 2 or it has no
measured flux; its magnitude is then the 2-sigma limit ``ZP - 2.5 log10(max(flux, 0) + 2 err)``.
Everything is vectorised over all targets and epochs at once (pandas groupby).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .association import centroid_scatter
from .photometry import ZERO_POINT, dn_to_mjy  # Vega mag = ZP - 2.5 log10(flux in DN)

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


def bin_visits(
    lightcurves: pd.DataFrame, gap_days: float, sigma: float, iterations: int
) -> pd.DataFrame:
    """One row per (target, epoch) of a light-curve table sorted by target then ``mjd``: epochs
    split at gaps > ``gap_days`` (d, :func:`epochs`), fluxes clipped at ``sigma`` x normalised
    MAD about their median, at most ``iterations`` rounds (:func:`clip_mask`).

    Columns: ``target_id, epoch, mjd, mjd_min, mjd_max, n_detections``, then for each band
    ``b`` in W1, W2: ``{b}_flux, {b}_flux_err`` (DN), ``{b}_flux_mjy, {b}_flux_err_mjy`` (the
    same in mJy, :mod:`neowise_lightcurves.photometry`), ``{b}_n`` (points kept), ``{b}_mjd``
    (their mean time), ``{b}_mag, {b}_mag_err`` (Vega), ``{b}_upper_limit``; and, when the
    light curves have ``ra`` and ``dec``, ``pos_scatter_arcsec``: the robust positional scatter
    of the epoch's detections about their own centroid (arcsec,
    :func:`neowise_lightcurves.association.centroid_scatter`; NaN for a single detection).
    """
    lc = lightcurves.reset_index(drop=True)
    groups, epoch = epochs(lc["target_id"].to_numpy(), lc["mjd"].to_numpy(dtype=float), gap_days)
    g = lc["mjd"].groupby(groups)
    out = pd.DataFrame(
        {"mjd": g.mean(), "mjd_min": g.min(), "mjd_max": g.max(), "n_detections": g.size()}
    )
    first = np.flatnonzero(np.diff(groups, prepend=-1))  # groups are contiguous
    out.insert(0, "epoch", epoch[first])
    out.insert(0, "target_id", lc["target_id"].iloc[first].array)  # its dtype, even when empty
    for b in BANDS:
        flux, err = lc[f"{b}flux"], lc[f"{b}sigflux"]
        keep = clip_mask(flux.where(err.notna()), groups, sigma, iterations)
        f = pd.Series(np.where(keep, flux, np.nan))
        e2 = pd.Series(np.where(keep, err.to_numpy(dtype=float) ** 2, np.nan))
        t = pd.Series(np.where(keep, lc["mjd"], np.nan))
        n = f.groupby(groups).count().to_numpy()
        med = f.groupby(groups).median().to_numpy()
        mad = (f - f.groupby(groups).transform("median")).abs().groupby(groups).median().to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            sem = np.sqrt(np.pi / 2) * MAD_TO_SIGMA * mad / np.sqrt(n)
            propagated = np.sqrt(e2.groupby(groups).sum(min_count=1).to_numpy()) / n
            ferr = np.fmax(sem, propagated)
            snr = med / ferr
            upper = ~(snr >= UPPER_LIMIT_SNR)
            zp = ZERO_POINT[b]
            mag = np.where(
                upper, zp - 2.5 * np.log10(np.fmax(med, 0) + 2 * ferr), zp - 2.5 * np.log10(med)
            )
            mag_err = np.where(upper, np.nan, 2.5 / np.log(10) * ferr / med)
        out[f"{b}_flux"] = med
        out[f"{b}_flux_err"] = ferr
        out[f"{b}_flux_mjy"] = dn_to_mjy(med, b)
        out[f"{b}_flux_err_mjy"] = dn_to_mjy(ferr, b)
        out[f"{b}_n"] = n
        out[f"{b}_mjd"] = t.groupby(groups).mean().to_numpy()
        out[f"{b}_mag"] = mag
        out[f"{b}_mag_err"] = mag_err
        out[f"{b}_upper_limit"] = upper
    if "ra" in lc.columns and "dec" in lc.columns:
        out["pos_scatter_arcsec"] = centroid_scatter(lc["ra"], lc["dec"], groups)
    return out.reset_index(drop=True)


def variability(binned: pd.DataFrame) -> pd.DataFrame:
    """Per target and band, from the binned epochs that are not upper limits.

    ``{b}_chi2_red``: reduced chi-square of the binned fluxes about their weighted mean;
    ``{b}_scatter``: standard deviation of the binned fluxes over their median;
    ``{b}_amplitude_mag``: brightest to faintest binned magnitude; ``{b}_n_epochs`` used.
    """
    per = {}
    for b in BANDS:
        ok = binned[~binned[f"{b}_upper_limit"]]
        f, e, m = ok[f"{b}_flux"], ok[f"{b}_flux_err"], ok[f"{b}_mag"]
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
