"""The per-target summary: one row per target, those without detections included."""

from __future__ import annotations

import pandas as pd

from . import association
from .binning import BANDS, variability

COLUMNS = (
    "target_id",
    "ra",
    "dec",
    "n_detections",
    "n_detections_before_cuts",
    "n_epochs",
    "n_years",
    "mjd_first",
    "mjd_last",
    "time_span_days",
    "w1flux_median",
    "w2flux_median",
    "w1flux_mjy_median",
    "w2flux_mjy_median",
    "w1_n_saturated",
    "w2_n_saturated",
    "w1_mag_median",
    "w2_mag_median",
    "w1_w2",
    "w1_chi2_red",
    "w1_scatter",
    "w1_amplitude_mag",
    "w2_chi2_red",
    "w2_scatter",
    "w2_amplitude_mag",
) + association.COLUMNS


def summarize(
    lightcurves: pd.DataFrame,
    targets: pd.DataFrame,
    binned: pd.DataFrame,
    n_before_cuts: pd.Series | None = None,
    diagnostics: pd.DataFrame | None = None,
    periods: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per target of ``targets``, in its order.

    ``n_detections`` counts detections after the cuts, ``n_detections_before_cuts`` before;
    ``n_epochs`` the binned epochs (visits, split as ``binned`` was: see
    :func:`neowise_lightcurves.binning.epochs`); ``mjd_first``, ``mjd_last``,
    ``time_span_days``; ``w1flux_median``, ``w2flux_median`` of the single exposures (the
    catalogue's uncalibrated DN), ``w1flux_mjy_median``, ``w2flux_mjy_median`` (their flux
    densities, mJy), ``w1_n_saturated``, ``w2_n_saturated`` (exposures brighter than the
    saturation limits, :data:`neowise_lightcurves.photometry.SATURATION_MAG`);
    ``w1_mag_median``, ``w2_mag_median`` of the binned epochs that are not upper limits and
    their difference ``w1_w2``; per band the variability statistics of
    :func:`neowise_lightcurves.binning.variability`; then the association diagnostics
    ``diagnostics`` (:func:`neowise_lightcurves.association.diagnostics`, indexed by target; None:
    those columns empty). A target without detections has zero counts and empty (NaN)
    statistics.

    ``periods`` (indexed by ``target_id``, :func:`neowise_lightcurves.periods.periods`), when
    given, adds its columns (:data:`neowise_lightcurves.periods.COLUMNS`) after the others: NaN
    periods and False flags for targets it does not hold.
    """
    g = lightcurves.groupby("target_id", sort=False)
    per = pd.DataFrame(
        {
            "n_detections": g.size(),
            "n_years": g["year"].nunique(),
            "mjd_first": g["mjd"].min(),
            "mjd_last": g["mjd"].max(),
            "w1flux_median": g["w1flux"].median(),
            "w2flux_median": g["w2flux"].median(),
            "w1flux_mjy_median": g["w1flux_mjy"].median(),
            "w2flux_mjy_median": g["w2flux_mjy"].median(),
            "w1_n_saturated": g["w1saturated"].sum(),
            "w2_n_saturated": g["w2saturated"].sum(),
        }
    )
    per["time_span_days"] = per["mjd_last"] - per["mjd_first"]
    bg = binned.groupby("target_id", sort=False)
    per["n_epochs"] = bg.size()
    for b in BANDS:
        mags = binned[f"{b}_mag"].where(~binned[f"{b}_upper_limit"])
        per[f"{b}_mag_median"] = mags.groupby(binned["target_id"]).median()
    per["w1_w2"] = per["w1_mag_median"] - per["w2_mag_median"]
    per = per.join(variability(binned))
    out = targets[["target_id", "ra", "dec"]].merge(
        per, left_on="target_id", right_index=True, how="left"
    )
    for name in ("n_detections", "n_epochs", "n_years", "w1_n_saturated", "w2_n_saturated"):
        out[name] = out[name].fillna(0).astype("int64")
    before = n_before_cuts if n_before_cuts is not None else per["n_detections"]
    out["n_detections_before_cuts"] = (
        before.reindex(out["target_id"]).fillna(0).astype("int64").to_numpy()
    )
    out = _with_diagnostics(out, diagnostics)
    out = out[list(COLUMNS)].reset_index(drop=True)
    if periods is not None:
        found = periods.reindex(out["target_id"])
        for name in periods.columns:
            values = found[name].to_numpy()
            if periods[name].dtype == bool:
                values = pd.Series(values).fillna(False).astype(bool).to_numpy()
            out[name] = values
    return out


def _with_diagnostics(out: pd.DataFrame, diagnostics: pd.DataFrame | None) -> pd.DataFrame:
    """``out`` with the association columns of ``diagnostics`` (by target id; empty where
    missing)."""
    if diagnostics is None:
        diagnostics = pd.DataFrame(columns=list(association.COLUMNS))
    d = diagnostics.reindex(out["target_id"])
    for name in association.COLUMNS:
        if name != "second_source":
            out[name] = d[name].to_numpy(dtype=float)
    out["second_source"] = d["second_source"].astype("boolean").to_numpy()
    return out


#: Units of the summary's columns (as docs/outputs.md gives them); a column not named has none
#: (counts, fractions, flags, ratios, χ²).
UNITS = {
    "ra": "deg",
    "dec": "deg",
    "mjd_first": "d",
    "mjd_last": "d",
    "time_span_days": "d",
    "w1flux_median": "DN",
    "w2flux_median": "DN",
    "w1flux_mjy_median": "mJy",
    "w2flux_mjy_median": "mJy",
    "w1_mag_median": "mag",
    "w2_mag_median": "mag",
    "w1_w2": "mag",
    "w1_amplitude_mag": "mag",
    "w2_amplitude_mag": "mag",
    **{name: "arcsec" for name in association.POSITION_COLUMNS},
    "second_source_sep_arcsec": "arcsec",
    "period_days": "d",
}
