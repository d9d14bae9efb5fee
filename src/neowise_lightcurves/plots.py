"""Epoch figures of light curves, in the manner of IRSA's notebook: one panel per epoch (epochs
split at gaps > 30 d), W1 and W2 raw fluxes with their errors."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .lightcurves import EPOCH_GAP_DAYS, epochs

BANDS = (("w1", "W1 (3.4 µm)", "tab:blue"), ("w2", "W2 (4.6 µm)", "tab:red"))


def safe_filename(target_id: str) -> str:
    """A file name for a target id: unsafe characters become ``_``; a short hash keeps it unique."""
    clean = re.sub(r"[^A-Za-z0-9._+-]", "_", str(target_id)).strip("._") or "target"
    if clean != str(target_id):
        clean += "-" + hashlib.sha1(str(target_id).encode()).hexdigest()[:6]
    return clean


def select_targets(summary: pd.DataFrame, top_n: int | str) -> list[str]:
    """Ids of the ``top_n`` targets with most detections (``"all"``: every target with any)."""
    withdata = summary[summary["n_detections"] > 0]
    ranked = withdata.sort_values(["n_detections", "target_id"], ascending=[False, True])
    if top_n != "all":
        ranked = ranked.head(int(top_n))
    return ranked["target_id"].astype(str).tolist()


def epoch_figure(lc: pd.DataFrame, title: str, ncols: int = 4, gap_days: float = EPOCH_GAP_DAYS):
    """A figure with one panel per epoch of one target's light curve (sorted by ``mjd``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lc = lc.sort_values("mjd")
    ep = epochs(lc["mjd"].to_numpy(), gap_days)
    n = int(ep.max()) + 1 if len(ep) else 1
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, sharey=True, figsize=(3.2 * ncols, 2.6 * nrows + 0.6), squeeze=False
    )
    axes = axes.ravel()
    for i in range(n):
        ax = axes[i]
        sel = lc[ep == i]
        for band, label, colour in BANDS:
            ax.errorbar(
                sel["mjd"],
                sel[f"{band}flux"],
                yerr=sel[f"{band}sigflux"],
                fmt=".",
                ms=4,
                lw=0.8,
                color=colour,
                label=label,
            )
        ax.set_title(f"epoch {i}  (MJD {sel['mjd'].min():.0f})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.supxlabel("MJD")
    fig.supylabel("raw flux (DN)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_targets(
    lightcurves: pd.DataFrame, summary: pd.DataFrame, folder: str | Path, top_n: int | str = 20
) -> list[Path]:
    """Write ``{folder}/{target}.png`` for the :func:`select_targets`; returns the paths."""
    import matplotlib.pyplot as plt

    from .atomic import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    groups = dict(tuple(lightcurves.groupby("target_id", sort=False)))
    for tid in select_targets(summary, top_n):
        lc = groups[tid]
        fig = epoch_figure(lc, f"NEOWISE light curve of {tid}  ({len(lc)} detections)")
        path = folder / f"{safe_filename(tid)}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90)
        plt.close(fig)
        written.append(path)
    return written
