"""Epoch figures of light curves, in the manner of IRSA's notebook: one panel per epoch (epochs
split as the binning splits them, :func:`neowise_lightcurves.binning.epochs`), W1 and W2 fluxes
with their errors (flux densities, Vega magnitudes or uncalibrated DN: :func:`y_values`); and the
overview figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .binning import UPPER_LIMIT_SNR, epochs
from .filenames import safe_filename
from .photometry import mjy_to_mag


def pyplot():
    """matplotlib's pyplot on the Agg backend (files, no screen): imported on first use (~0.5
    CPU-s), so that the stages that draw nothing never pay for it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


BANDS = (("w1", "W1 (3.4 µm)", "tab:blue"), ("w2", "W2 (4.6 µm)", "tab:red"))
#: Summary columns the overview figures use.
OVERVIEW_COLUMNS = ("ra", "dec", "n_detections", "w1_mag_median", "w1_chi2_red", "w1_amplitude_mag")
#: ``plots.flux_unit`` -> the epoch figures' y-axis label.
FLUX_UNITS = {
    "mjy": "flux density (mJy)",
    "mag": "Vega magnitude",
    "dn": "uncalibrated flux (DN)",
}


def y_values(frame: pd.DataFrame, band: str, flux_unit: str, binned: bool = False):
    """What the epoch figures draw for ``band`` of single exposures (``frame``: light curves)
    or, with ``binned``, of binned epochs, in ``flux_unit`` (a key of :data:`FLUX_UNITS`).

    Returns ``y, err, limit`` (numpy arrays): the values and their errors, and (binned only,
    else None) where an upper limit is drawn: ``max(flux, 0) + 2 err`` in mJy or DN, the 2-sigma
    limit ``{b}_mag`` in magnitudes. ``mjy`` draws the flux densities (each exposure on its own
    zero point: :mod:`neowise_lightcurves.photometry`), ``mag`` the Vega magnitudes of those
    (error ``1.0857 err / flux``; NaN, not drawn, below SNR 2: the catalogue gives no magnitude
    error there, and binned epochs are upper limits), ``dn`` the catalogue's uncalibrated
    counts (which step where its zero points change).
    """
    if flux_unit not in FLUX_UNITS:
        raise ValueError(
            f"plots.flux_unit must be one of {', '.join(FLUX_UNITS)}, not {flux_unit!r}"
        )
    if flux_unit == "dn":
        names = (
            (f"{band}_flux", f"{band}_flux_err") if binned else (f"{band}flux", f"{band}sigflux")
        )
    elif binned:
        names = (f"{band}_flux_mjy", f"{band}_flux_err_mjy")
    else:
        names = (f"{band}flux_mjy", f"{band}sigflux_mjy")
    flux, err = (frame[c].to_numpy(dtype=float, na_value=np.nan) for c in names)
    limit = np.fmax(np.nan_to_num(flux), 0) + 2 * err if binned else None
    if flux_unit == "mag":
        with np.errstate(invalid="ignore", divide="ignore"):
            positive = np.where(flux >= UPPER_LIMIT_SNR * err, flux, np.nan)
            flux, err = mjy_to_mag(positive, band), 2.5 / np.log(10) * err / positive
        if binned:
            limit = frame[f"{band}_mag"].to_numpy(dtype=float, na_value=np.nan)
    return flux, err, limit


def select_targets(summary: pd.DataFrame, top_n: int | str) -> list[str]:
    """Ids of the ``top_n`` targets with most detections (``"all"``: every target with any)."""
    withdata = summary[summary["n_detections"] > 0]
    ranked = withdata.sort_values(["n_detections", "target_id"], ascending=[False, True])
    if top_n != "all":
        ranked = ranked.head(int(top_n))
    return ranked["target_id"].astype(str).tolist()


def _binned_points(ax, binned: pd.DataFrame, band: str, colour: str, flux_unit: str) -> None:
    y, err, limit = y_values(binned, band, flux_unit, binned=True)
    upper = binned[f"{band}_upper_limit"].to_numpy(dtype=bool)
    ok = ~upper
    ax.errorbar(
        binned[f"{band}_mjd"].to_numpy()[ok],
        y[ok],
        yerr=err[ok],
        fmt="o",
        ms=6,
        mfc="white",
        mec=colour,
        ecolor=colour,
        lw=1.4,
        zorder=5,
    )
    lim = upper & binned[f"{band}_flux_err"].notna().to_numpy()
    ax.plot(
        binned["mjd"].to_numpy()[lim],
        limit[lim],
        "v",
        ms=7,
        mfc="white",
        mec=colour,
        zorder=5,
    )


def epoch_figure(
    lc: pd.DataFrame,
    title: str,
    binned: pd.DataFrame | None,
    gap_days: float,
    ncols: int = 4,
    *,
    flux_unit: str,
    period: float | None = None,
):
    """One target's light curve: a whole-baseline panel on top, then one panel per epoch.

    Single exposures are dots with error bars, binned epochs open circles (open triangles:
    2-sigma upper limits), W1 blue and W2 red, the AllWISE MEP's span shaded, in
    ``flux_unit`` (:func:`y_values`: ``mjy`` flux density, ``dn`` uncalibrated flux, ``mag`` Vega
    magnitudes on inverted axes). With a
    ``period`` (d), a panel of the single exposures folded at it comes second
    (:func:`folded_panel`).
    """
    plt = pyplot()

    lc = lc.sort_values("mjd")
    _, ep = epochs(lc["target_id"].to_numpy(), lc["mjd"].to_numpy(), gap_days)
    n = int(ep.max()) + 1 if len(ep) else 1
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    folded = 1 if period is not None else 0  # a row for the folded panel
    nrows += folded
    width, height = 3.2 * max(ncols, 3), 2.6 * (nrows + 1) + 0.6
    fig = plt.figure(figsize=(width, height))
    # margins fixed in inches (tight_layout measures every label first: a third of the time)
    grid = fig.add_gridspec(
        nrows + 1,
        ncols,
        left=0.95 / width,
        right=1 - 0.15 / width,
        bottom=0.6 / height,
        top=1 - 0.95 / height,
        hspace=0.7 * (nrows + 1) / (height - 1.55 - 0.7 * nrows),
        wspace=0.28,
    )
    top = fig.add_subplot(grid[0, :])
    axes = [fig.add_subplot(grid[1 + folded + i // ncols, i % ncols]) for i in range(n)]
    panels = [top, *axes]
    if folded:
        panels.append(fig.add_subplot(grid[1, :]))
        folded_panel(panels[-1], lc, period, flux_unit)
    for i, ax in enumerate(axes):
        sel = lc[ep == i]
        for band, label, colour in BANDS:
            y, err, _ = y_values(sel, band, flux_unit)
            ax.errorbar(
                sel["mjd"],
                y,
                yerr=err,
                fmt=".",
                ms=4,
                lw=0.8,
                color=colour,
                alpha=0.7,
                label=label,
            )
            if binned is not None:
                _binned_points(ax, binned[binned["epoch"] == i], band, colour, flux_unit)
        survey = "  AllWISE" if _allwise(sel).all() else ""
        ax.set_title(f"epoch {i}  (MJD {sel['mjd'].min():.0f}){survey}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.locator_params(axis="x", nbins=4)  # MJDs are wide labels
    for band, label, colour in BANDS:
        y, _, _ = y_values(lc, band, flux_unit)
        top.plot(lc["mjd"], y, ".", ms=2, color=colour, alpha=0.4, label=label)
        if binned is not None:
            _binned_points(top, binned, band, colour, flux_unit)
    mep = _allwise(lc)
    if mep.any():  # the 2010-2011 exposures' span, shaded
        t = lc["mjd"][mep]
        top.axvspan(t.min() - 5, t.max() + 5, color="0.92", zorder=0, label="AllWISE MEP")
    if flux_unit == "mag":  # brighter up
        for ax in panels:
            ax.invert_yaxis()
    top.set_title(
        "whole baseline (open circles: binned epochs; triangles: upper limits)", fontsize=9
    )
    top.legend(fontsize=7, loc="best")
    top.tick_params(labelsize=7)
    fig.supxlabel("MJD")
    fig.supylabel(FLUX_UNITS[flux_unit])
    fig.suptitle(title)
    return fig


def _allwise(lc: pd.DataFrame) -> np.ndarray:
    """Which rows are the AllWISE MEP's (year ``"allwise"``)."""
    from .surveys import mep_rows

    if "year" not in lc.columns:
        return np.zeros(len(lc), dtype=bool)
    return mep_rows(lc["year"])


def folded_panel(ax, lc: pd.DataFrame, period: float, flux_unit: str) -> None:
    """Single exposures (W1 blue, W2 red, in ``flux_unit``: :func:`y_values`) against their
    phase at ``period`` (d), phase 0 at the first exposure, drawn over two cycles."""
    phase = ((lc["mjd"] - lc["mjd"].min()) / period) % 1.0
    for band, label, colour in BANDS:
        y, err, _ = y_values(lc, band, flux_unit)
        for shift in (0.0, 1.0):
            ax.errorbar(
                phase + shift,
                y,
                yerr=err,
                fmt=".",
                ms=3,
                lw=0.6,
                color=colour,
                alpha=0.5,
                label=label if shift == 0 else None,
            )
    ax.set_xlim(0, 2)
    ax.set_title(f"folded at P = {period:.6g} d (phase, two cycles)", fontsize=9)
    ax.tick_params(labelsize=7)


def _significant_periods(summary: pd.DataFrame) -> dict:
    """``target_id`` -> best period (d) of the targets whose period is significant and not a
    window alias (a trend's "period": nothing to fold); none when the summary has no period
    columns."""
    if not {"period_days", "period_significant", "period_alias"} <= set(summary.columns):
        return {}
    flag = summary[["period_significant", "period_alias"]].fillna(False).astype(bool)
    sig = summary[flag["period_significant"] & ~flag["period_alias"]]
    return dict(zip(sig["target_id"].astype(str), sig["period_days"], strict=True))


def plot_targets(
    lightcurves: pd.DataFrame,
    summary: pd.DataFrame,
    folder: str | Path,
    top_n: int | str,
    binned: pd.DataFrame | None,
    gap_days: float,
    *,
    flux_unit: str,
) -> list[Path]:
    """Write ``{folder}/{target}.png`` for the :func:`select_targets`, epochs split at gaps
    > ``gap_days`` (d) as the binning splits them, fluxes in ``flux_unit`` (:func:`y_values`);
    returns the paths. A target whose summary row has a significant period that is not a
    window alias (``period_significant``, not ``period_alias``) gets a folded panel."""
    plt = pyplot()

    from .atomic import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    chosen = list(select_targets(summary, top_n))
    # split only the chosen targets' rows (splitting every target's costs seconds at 10,000)
    mine = lightcurves[lightcurves["target_id"].isin(chosen)]
    groups = dict(tuple(mine.groupby("target_id", sort=False)))
    bgroups = {}
    if binned is not None:
        bgroups = dict(tuple(binned[binned["target_id"].isin(chosen)].groupby("target_id")))
    found = _significant_periods(summary)
    for tid in chosen:
        lc = groups[tid]
        survey = "WISE/NEOWISE" if _allwise(lc).any() else "NEOWISE"
        title = f"{survey} light curve of {tid}  ({len(lc)} detections)"
        fig = epoch_figure(
            lc, title, bgroups.get(tid), gap_days, flux_unit=flux_unit, period=found.get(tid)
        )
        path = folder / f"{safe_filename(tid)}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def overview_figures(summary: pd.DataFrame, variability_path, sky_path) -> None:
    """Variability against brightness (reduced chi-square of binned W1 against median W1), and
    a sky map of the targets coloured by their number of detections."""
    plt = pyplot()

    from .atomic import atomic_path

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ok = summary[summary["w1_chi2_red"].notna()]
    sc = ax.scatter(
        ok["w1_mag_median"], ok["w1_chi2_red"], c=ok["w1_amplitude_mag"], s=18, cmap="viridis"
    )
    ax.set_yscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("median binned W1 (Vega mag)")
    ax.set_ylabel("W1 reduced chi-square about the mean")
    fig.colorbar(sc, ax=ax, label="W1 amplitude (mag)")
    ax.set_title(f"variability of {len(ok)} targets with >= 2 binned epochs")
    # fixed margins: tight_layout measures every tick label first (half of this function's time)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.11, top=0.93)
    with atomic_path(variability_path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)

    fig = plt.figure(figsize=(8, 4.6))
    ax = fig.add_subplot(projection="mollweide")
    lon = -np.radians(((summary["ra"].to_numpy() + 180) % 360) - 180)  # east to the left
    lat = np.radians(summary["dec"].to_numpy())
    n = summary["n_detections"].to_numpy()
    sc = ax.scatter(lon, lat, c=np.log10(n + 1), s=14, cmap="plasma")
    none = n == 0
    ax.scatter(
        lon[none], lat[none], s=30, facecolors="none", edgecolors="k", lw=0.8, label="no detections"
    )
    ax.set_xticklabels(
        [f"{v}°" for v in (150, 120, 90, 60, 30, 0, 330, 300, 270, 240, 210)], fontsize=7
    )
    ax.grid(True, lw=0.3)
    fig.colorbar(sc, ax=ax, label="log10(detections + 1)", shrink=0.7)
    if none.any():
        ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"{len(summary)} targets (RA, Dec; ICRS)")
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.05, top=0.92)
    with atomic_path(sky_path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
