"""Interactive (Bokeh) figures of one target, shared by the explorer's page and the static
export: the light curve (single exposures and binned epochs, W1 and W2, error bars, upper
limits, the AllWISE MEP's exposures marked, the detections the cuts removed), one visit zoomed,
the exposures folded at the period, and the detections' offsets from the target.

Each figure draws from :class:`bokeh.models.ColumnDataSource` objects whose data
:func:`target_data` makes from a target's rows. Every flux column is there in each unit (``mjy``
flux density, ``mag`` Vega magnitude, ``dn`` uncalibrated counts: as
:func:`neowise_lightcurves.plots.y_values` computes them) under ``{band}__{unit}...``, and the
figures draw ``{band}...``, which the unit selector (:func:`unit_select`) fills in the browser:
switching units needs no server.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .association import tangent_offsets
from .binning import BANDS
from .plots import FLUX_UNITS, y_values
from .surveys import mep_rows

#: Band -> (label, colour) on the figures.
STYLE = {"w1": ("W1 (3.4 µm)", "#1f77b4"), "w2": ("W2 (4.6 µm)", "#d62728")}
#: The flux unit the figures open in.
DEFAULT_UNIT = "mjy"
#: The sources each target's figures draw from.
SOURCES = ("exposures", "epochs", "cut", "folded", "visit")
_SUFFIXES = ("", "_lo", "_hi")


def _flux_columns(frame: pd.DataFrame, binned: bool, unit: str | None) -> dict:
    """``{band}__{u}``, ``..._lo``, ``..._hi`` (value and value -/+ error) for every unit, and
    for binned epochs ``{band}_lim__{u}`` (the upper limit drawn: NaN where the epoch is none,
    where its value is then NaN); with ``unit``, the same without ``__{u}`` for that unit."""
    out = {}
    for band in BANDS:
        upper = (
            frame[f"{band}_upper_limit"].to_numpy(dtype=bool)
            if binned
            else np.zeros(len(frame), dtype=bool)
        )
        for u in FLUX_UNITS:
            y, err, limit = y_values(frame, band, u, binned=binned)
            err = np.nan_to_num(err, nan=0.0)
            y = np.where(upper, np.nan, y)
            cols = {"": y, "_lo": y - err, "_hi": y + err}
            if binned:
                cols["_lim"] = np.where(upper, limit, np.nan)
            for suffix, values in cols.items():
                out[f"{band}{suffix}__{u}"] = np.asarray(values, dtype=float)
    if unit is not None:
        for key in list(out):
            name, _, u = key.partition("__")
            if u == unit:
                out[name] = out[key]
    return out


def _offsets(lc: pd.DataFrame, ra: float, dec: float) -> dict:
    """East and north offsets of the detections from (ra, dec) (arcsec, tangent plane:
    :func:`neowise_lightcurves.association.tangent_offsets`)."""
    east, north = tangent_offsets(
        lc["ra"].to_numpy(dtype=float), lc["dec"].to_numpy(dtype=float), ra, dec
    )
    return {"east": east, "north": north}


def exposure_data(lc: pd.DataFrame, ra: float, dec: float, unit: str) -> dict:
    """A source's data of single exposures (one row each, in ``lc``'s order): ``mjd``,
    ``year``, ``marker`` (``square`` for the AllWISE MEP's, else ``circle``), ``cc_flags``,
    ``east``, ``north`` (arcsec from the target) and the flux columns (:func:`_flux_columns`)."""
    year = lc["year"].astype(str).to_numpy() if "year" in lc else np.full(len(lc), "")
    data = {
        "mjd": lc["mjd"].to_numpy(dtype=float),
        "year": year,
        "marker": np.where(mep_rows(year), "square", "circle"),
        "cc_flags": lc["cc_flags"].astype(str).to_numpy()
        if "cc_flags" in lc
        else np.full(len(lc), ""),
        **_offsets(lc, ra, dec),
    }
    data.update(_flux_columns(lc, binned=False, unit=unit))
    return data


def epoch_data(binned: pd.DataFrame, unit: str) -> dict:
    """A source's data of binned epochs: ``epoch``, ``mjd``, ``mjd_min``, ``mjd_max``,
    ``n_detections``, ``{band}_x`` (the mean time of the band's fluxes kept, else the epoch's)
    and the flux and upper-limit columns (:func:`_flux_columns`)."""
    mjd = binned["mjd"].to_numpy(dtype=float)
    data = {
        "epoch": binned["epoch"].to_numpy(dtype=int),
        "mjd": mjd,
        "mjd_min": binned["mjd_min"].to_numpy(dtype=float),
        "mjd_max": binned["mjd_max"].to_numpy(dtype=float),
        "n_detections": binned["n_detections"].to_numpy(dtype=int),
    }
    for band in BANDS:
        x = binned[f"{band}_mjd"].to_numpy(dtype=float, na_value=np.nan)
        data[f"{band}_x"] = np.where(np.isnan(x), mjd, x)
    data.update(_flux_columns(binned, binned=True, unit=unit))
    return data


def folded_data(exposures: dict, period: float | None) -> dict:
    """The exposures (:func:`exposure_data`) twice, at phase (``mjd - first``) / ``period``
    modulo 1 and that plus 1: two cycles. Empty without a period."""
    n = len(exposures["mjd"])
    if not period or not np.isfinite(period) or n == 0:
        return {k: np.asarray(v)[:0] for k, v in exposures.items()} | {"phase": np.zeros(0)}
    phase = ((exposures["mjd"] - exposures["mjd"].min()) / period) % 1.0
    data = {k: np.concatenate([np.asarray(v), np.asarray(v)]) for k, v in exposures.items()}
    data["phase"] = np.concatenate([phase, phase + 1.0])
    return data


def visit_data(exposures: dict, epochs: dict, visit: int) -> dict:
    """The exposures of binned epoch ``visit`` (between its ``mjd_min`` and ``mjd_max``)."""
    if not len(epochs["epoch"]) or visit >= len(epochs["epoch"]):
        return {k: np.asarray(v)[:0] for k, v in exposures.items()}
    keep = (exposures["mjd"] >= epochs["mjd_min"][visit]) & (
        exposures["mjd"] <= epochs["mjd_max"][visit]
    )
    return {k: np.asarray(v)[keep] for k, v in exposures.items()}


def target_data(
    lc: pd.DataFrame,
    binned: pd.DataFrame,
    info: pd.Series,
    unit: str = DEFAULT_UNIT,
    cut: pd.DataFrame | None = None,
    visit: int = 0,
) -> dict:
    """Every source's data (:data:`SOURCES`) for one target.

    Parameters
    ----------
    lc, binned : pandas.DataFrame
        Its single exposures and binned epochs (``read_lightcurves``).
    info : pandas.Series
        Its summary row (``ra``, ``dec`` in deg; ``period_days`` in d when there).
    unit : str
        The flux unit drawn (a key of :data:`neowise_lightcurves.plots.FLUX_UNITS`).
    cut : pandas.DataFrame, optional
        The detections the cuts removed (:func:`neowise_lightcurves.rundata.cut_detections`).
    visit : int
        The epoch zoomed into.
    """
    ra, dec = float(info["ra"]), float(info["dec"])
    exposures = exposure_data(lc, ra, dec, unit)
    epochs = epoch_data(binned, unit)
    removed = exposure_data(cut if cut is not None else lc.iloc[:0], ra, dec, unit)
    return {
        "exposures": exposures,
        "epochs": epochs,
        "cut": removed,
        "folded": folded_data(exposures, folding_period(info)),
        "visit": visit_data(exposures, epochs, visit),
    }


def folding_period(info: pd.Series) -> float | None:
    """The period (d) to fold at: the summary's ``period_days`` where ``period_significant``
    (a window alias included: folded, it shows what the alias is), else None."""
    if not bool(info.get("period_significant", False)):
        return None
    period = float(info.get("period_days", np.nan))
    return period if np.isfinite(period) and period > 0 else None


def visit_options(epochs: dict) -> list[tuple[str, str]]:
    """(value, label) of each binned epoch for a visit selector."""
    return [
        (str(i), f"visit {e}: MJD {lo:.2f}–{hi:.2f}, {n} exposures")
        for i, (e, lo, hi, n) in enumerate(
            zip(
                epochs["epoch"],
                epochs["mjd_min"],
                epochs["mjd_max"],
                epochs["n_detections"],
                strict=True,
            )
        )
    ]


def new_sources(data: dict, prefix: str = "") -> dict:
    """A :class:`~bokeh.models.ColumnDataSource` for each of ``data`` (:func:`target_data`),
    named ``{prefix}{key}`` (the tests find them by name)."""
    from bokeh.models import ColumnDataSource

    return {k: ColumnDataSource(v, name=f"{prefix}{k}") for k, v in data.items()}


def _errors_and_points(fig, source, band, x, *, size, fill, alpha=1.0, suffix=""):
    """Error bars and points of one band; returns the renderers."""
    _, colour = STYLE[band]
    bars = fig.segment(
        x0=x,
        x1=x,
        y0=f"{band}_lo",
        y1=f"{band}_hi",
        source=source,
        color=colour,
        alpha=0.5 * alpha,
        line_width=1,
    )
    points = fig.scatter(
        x=x,
        y=band,
        source=source,
        marker="marker" if "marker" in source.data else "circle",
        size=size,
        line_color=colour,
        fill_color=colour if fill else "white",
        alpha=alpha,
        name=f"{suffix}{band}",
    )
    return [bars, points]


def lightcurve_figure(sources: dict, mep_span: tuple[float, float] | None, *, width=1000):
    """The whole light curve: exposures (dots; AllWISE MEP's squares, its span shaded), binned
    epochs (open circles; upper limits open downward triangles), cut detections (crosses,
    hidden until their legend entry is clicked). Legend entries hide and show their points.

    Returns
    -------
    bokeh.plotting.figure
    """
    from bokeh.models import BoxAnnotation, HoverTool, Legend, LegendItem, TapTool
    from bokeh.plotting import figure

    fig = figure(
        width=width,
        height=380,
        x_axis_label="MJD (d)",
        y_axis_label=FLUX_UNITS[DEFAULT_UNIT],
        tools="pan,xwheel_zoom,box_zoom,reset,save",
        active_scroll="xwheel_zoom",
        name="lightcurve",
    )
    shade = BoxAnnotation(
        left=mep_span[0] - 5 if mep_span else 0,
        right=mep_span[1] + 5 if mep_span else 0,
        fill_color="#999999",
        fill_alpha=0.15,
        visible=mep_span is not None,
        name="mep_span",
    )
    fig.add_layout(shade)
    items = []
    for band in BANDS:
        label, colour = STYLE[band]
        raw = _errors_and_points(
            fig, sources["exposures"], band, "mjd", size=4, fill=True, alpha=0.6
        )
        items.append(LegendItem(label=f"{label} exposures", renderers=raw))
    hover_targets = [r for r in fig.renderers if r.name in BANDS]
    for band in BANDS:
        label, colour = STYLE[band]
        ep = _errors_and_points(
            fig, sources["epochs"], band, f"{band}_x", size=9, fill=False, suffix="epoch_"
        )
        lim = fig.scatter(
            x="mjd",
            y=f"{band}_lim",
            source=sources["epochs"],
            marker="inverted_triangle",
            size=10,
            line_color=colour,
            fill_color="white",
        )
        items.append(LegendItem(label=f"{label[:2]} epochs", renderers=ep))
        items.append(LegendItem(label=f"{label[:2]} upper limits", renderers=[lim]))
    cut = []
    for band in BANDS:
        cut.append(
            fig.scatter(
                x="mjd",
                y=band,
                source=sources["cut"],
                marker="x",
                size=6,
                color=STYLE[band][1],
                alpha=0.6,
                visible=False,
                name=f"cut_{band}",
            )
        )
    items.append(LegendItem(label="cut detections", renderers=cut))
    items.append(LegendItem(label="AllWISE MEP (squares, shaded)", renderers=[]))
    legend = Legend(
        items=items, orientation="horizontal", click_policy="hide", label_text_font_size="8pt"
    )
    fig.add_layout(legend, "above")
    fig.add_tools(
        HoverTool(
            renderers=hover_targets + cut,
            tooltips=[("MJD", "@mjd{0.0000}"), ("year", "@year"), ("cc_flags", "@cc_flags")],
        ),
        TapTool(renderers=[r for r in fig.renderers if r.name and r.name.startswith("epoch_")]),
    )
    return fig


def visit_figure(sources: dict, *, width=480):
    """One visit's exposures and its binned epoch, the y axis fitted to the exposures."""
    from bokeh.models import DataRange1d
    from bokeh.plotting import figure

    fig = figure(
        width=width,
        height=320,
        x_axis_label="MJD (d)",
        y_axis_label=FLUX_UNITS[DEFAULT_UNIT],
        tools="pan,wheel_zoom,box_zoom,reset",
        name="visit_figure",
        title="one visit",
    )
    fitted = []
    for band in BANDS:
        fitted += _errors_and_points(fig, sources["visit"], band, "mjd", size=5, fill=True)
    for band in BANDS:
        _errors_and_points(fig, sources["epochs"], band, f"{band}_x", size=11, fill=False)
    fig.x_range = DataRange1d(renderers=fitted, range_padding=0.05)
    fig.y_range = DataRange1d(renderers=fitted, range_padding=0.1)
    return fig


def folded_figure(sources: dict, period: float | None, *, width=480):
    """The exposures against phase at the period, two cycles."""
    from bokeh.plotting import figure

    fig = figure(
        width=width,
        height=320,
        x_axis_label="phase (cycles)",
        y_axis_label=FLUX_UNITS[DEFAULT_UNIT],
        x_range=(0, 2),
        tools="pan,wheel_zoom,box_zoom,reset",
        name="folded_figure",
        title=folded_title(period),
    )
    for band in BANDS:
        _errors_and_points(fig, sources["folded"], band, "phase", size=4, fill=True, alpha=0.6)
    return fig


def folded_title(period: float | None) -> str:
    """The folded figure's title."""
    if period is None:
        return "folded: no significant period"
    return f"folded at P = {period:.6g} d (phase 0 at the first exposure)"


def offsets_figure(sources: dict, radius_arcsec: float | None, *, width=420):
    """The detections' offsets from the target (arcsec, east to the left), coloured by MJD
    (a moving target's track); the cut detections grey; the match radius drawn."""
    from bokeh.models import ColorBar, LinearColorMapper
    from bokeh.palettes import Viridis256
    from bokeh.plotting import figure

    fig = figure(
        width=width,
        height=380,
        x_axis_label="east offset (arcsec)",
        y_axis_label="north offset (arcsec)",
        match_aspect=True,
        tools="pan,wheel_zoom,box_zoom,reset,hover",
        tooltips=[("MJD", "@mjd{0.00}"), ("year", "@year")],
        name="offsets_figure",
        title="detections around the target, coloured by MJD",
    )
    fig.x_range.flipped = True
    mjd = sources["exposures"].data["mjd"]
    mapper = LinearColorMapper(
        palette=Viridis256,
        low=float(np.min(mjd)) if len(mjd) else 0.0,
        high=float(np.max(mjd)) if len(mjd) else 1.0,
        name="offsets_colours",
    )
    fig.scatter(x="east", y="north", source=sources["cut"], marker="x", color="#999999", size=6)
    fig.scatter(
        x="east",
        y="north",
        source=sources["exposures"],
        marker="marker",
        size=6,
        color={"field": "mjd", "transform": mapper},
    )
    if radius_arcsec:
        fig.circle(x=[0], y=[0], radius=radius_arcsec, fill_alpha=0, line_dash="dashed")
    fig.scatter(x=[0], y=[0], marker="cross", size=14, color="black")
    fig.add_layout(ColorBar(color_mapper=mapper, title="MJD", width=8), "right")
    return fig


def unit_select(sources: dict, figures: list):
    """A selector of the flux unit that refills every source's ``{band}...`` columns from
    ``{band}...__{unit}`` and relabels (and for magnitudes flips) the figures' y axes, in the
    browser."""
    from bokeh.models import CustomJS, Select

    select = Select(
        title="flux unit",
        value=DEFAULT_UNIT,
        options=[(k, v) for k, v in FLUX_UNITS.items()],
        name="unit",
        width=200,
    )
    code = """
    const unit = select.value
    for (const src of sources) {
        const data = {...src.data}
        for (const key of Object.keys(data)) {
            const [name, u] = key.split('__')
            if (u === unit) data[name] = data[key]
        }
        src.data = data
    }
    for (const fig of figures) {
        fig.y_range.flipped = unit === 'mag'
        for (const axis of fig.left) axis.axis_label = labels[unit]
    }
    """
    select.js_on_change(
        "value",
        CustomJS(
            args=dict(
                select=select,
                sources=[sources[k] for k in SOURCES],
                figures=figures,
                labels=dict(FLUX_UNITS),
            ),
            code=code,
        ),
    )
    return select


def visit_select(sources: dict):
    """A selector of the visit zoomed into, which fills the visit's source in the browser;
    tapping a binned epoch on the light curve selects its visit."""
    from bokeh.models import CustomJS, Select

    options = visit_options(sources["epochs"].data)
    select = Select(
        title="zoom into",
        value=options[0][0] if options else "",
        options=options,
        name="visit_select",
        width=360,
    )
    select.js_on_change(
        "value",
        CustomJS(
            args=dict(
                select=select,
                exposures=sources["exposures"],
                epochs=sources["epochs"],
                visit=sources["visit"],
            ),
            code="""
    const i = Number(select.value)
    const e = epochs.data
    if (!(i < e.epoch.length)) return
    const lo = e.mjd_min[i], hi = e.mjd_max[i]
    const x = exposures.data, out = {}
    const keep = []
    for (let j = 0; j < x.mjd.length; j++) if (x.mjd[j] >= lo && x.mjd[j] <= hi) keep.push(j)
    for (const key of Object.keys(x)) out[key] = keep.map((j) => x[key][j])
    visit.data = out
    """,
        ),
    )
    sources["epochs"].selected.js_on_change(
        "indices",
        CustomJS(
            args=dict(select=select, epochs=sources["epochs"]),
            code="""
    const idx = epochs.selected.indices
    if (idx.length) select.value = String(idx[0])
    """,
        ),
    )
    return select
