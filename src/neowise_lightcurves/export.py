"""The static export: one self-contained HTML file (Bokeh's JavaScript inlined, no server, nothing
loaded from the internet) with the explorer's interactive figures of a run's top targets, to
share or to put beside the Snakemake report."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import interactive, rundata, surveys
from .atomic import atomic_path
from .explorer import table_columns, table_data, target_panel
from .flags import Flags, default_path
from .outputs import PER_TARGET


def default_output(outdir: str | os.PathLike) -> Path:
    """``{outdir}-explorer.html`` beside ``outdir`` (outside the workflow's outputs)."""
    outdir = Path(outdir).resolve()
    return outdir.parent / f"{outdir.name}-explorer.html"


def top_targets(run: rundata.Run, top: int, sort_by: str = "n_detections") -> list[str]:
    """The ``top`` targets with the largest ``sort_by`` (NaN last; ties by id) among those with
    detections."""
    s = run.summary
    if sort_by not in s.columns:
        raise KeyError(f"{sort_by!r} is not a summary column")
    have = s[s["n_detections"] > 0]
    ranked = have.sort_values(
        [sort_by, "target_id"], ascending=[False, True], na_position="last", kind="stable"
    )
    return ranked["target_id"].astype(str).head(top).tolist()


def target_layout(run: rundata.Run, target_id: str, link: str):
    """The figures of one target, as the explorer draws them, with their own sources and
    selectors (unit, visit), and its panel of values and files."""
    from bokeh.layouts import column, row
    from bokeh.models import Div

    info = run.summary[run.summary["target_id"].astype(str) == target_id].iloc[0]
    rows = rundata.target_rows(run.outdir, target_id)
    cut = rundata.cut_detections(run, target_id, rows.exposures)
    data = interactive.target_data(rows.exposures, rows.epochs, info, cut=cut)
    sources = interactive.new_sources(data, prefix=f"{target_id}:")
    mep = surveys.mep_rows(rows.exposures["year"])
    span = (
        (float(rows.exposures["mjd"][mep].min()), float(rows.exposures["mjd"][mep].max()))
        if mep.any()
        else None
    )
    lightcurve = interactive.lightcurve_figure(sources, span, width=1200)
    lightcurve.title.text = (
        f"{target_id}: {len(rows.exposures)} exposures, {len(rows.epochs)} epochs"
    )
    visit = interactive.visit_figure(sources, width=400)
    folded = interactive.folded_figure(sources, interactive.folding_period(info), width=400)
    radius = float(run.meta.get("radius_arcsec", "nan"))
    offsets = interactive.offsets_figure(
        sources, radius if np.isfinite(radius) else None, width=400
    )
    units = interactive.unit_select(sources, [lightcurve, visit, folded])
    visits = interactive.visit_select(sources)
    panel = Div(text=target_panel(run, info, rows.files, link), width=400)
    layout = column(row(units, visits), lightcurve, row(visit, folded, offsets), panel)
    prefix = f"{target_id}:"
    for model in layout.references():  # names unique in the page: "{target}:{name}"
        if model.name and not model.name.startswith(prefix):
            model.name = prefix + model.name
    return layout


def export(
    outdir: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    top: int = 20,
    sort_by: str = "n_detections",
    targets: list[str] | None = None,
    flags_path: str | os.PathLike | None = None,
) -> Path:
    """Write the static HTML of a run's top targets: their summary rows (with the user's flags)
    and one tab of figures each.

    Parameters
    ----------
    outdir : path
        The run's ``outdir``.
    output : path, optional
        The HTML file (default :func:`default_output`).
    top : int
        How many targets (:func:`top_targets`).
    sort_by : str
        The summary column they are the largest of.
    targets : list of str, optional
        These targets instead.
    flags_path : path, optional
        The user's flags, shown in the table (default
        :func:`neowise_lightcurves.flags.default_path`).

    Returns
    -------
    Path
        The file written.
    """
    from bokeh.embed import file_html
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, DataTable, Div, TabPanel, Tabs
    from bokeh.resources import INLINE

    run = rundata.open_run(outdir)
    out = Path(output) if output else default_output(outdir)
    chosen = list(targets) if targets else top_targets(run, top, sort_by)
    known = set(run.summary["target_id"].astype(str))
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise KeyError(f"not in {run.outdir}'s summary: {', '.join(unknown[:5])}")
    flags = Flags(flags_path or default_path(outdir))
    rows = np.flatnonzero(run.summary["target_id"].astype(str).isin(chosen).to_numpy())
    rank = {t: i for i, t in enumerate(chosen)}
    rows = np.array(sorted(rows, key=lambda r: rank[str(run.summary["target_id"].iloc[r])]))
    table = DataTable(
        source=ColumnDataSource(table_data(run.summary, rows, flags)),
        columns=table_columns(run),
        width=1200,
        height=min(400, 40 + 25 * len(rows)),
        index_position=None,
        autosize_mode="none",
        reorderable=False,
    )
    files = Path(outdir).resolve() / PER_TARGET
    link = os.path.relpath(files, out.resolve().parent) + "/"
    tabs = Tabs(
        tabs=[TabPanel(title=t, child=target_layout(run, t, link)) for t in chosen],
        name="targets",
    )
    heading = Div(
        text=(
            f"<h2>NEOWISE light curves: {len(chosen)} targets of {run.outdir.name}</h2>"
            f"<p>{len(run.summary):,} targets in the run; cuts {run.meta.get('cuts', '')!r}; "
            f"years {run.meta.get('years', '')}; {run.meta.get('package', '')}. One tab per "
            "target; legend entries hide and show points; click a binned epoch to zoom into "
            "its visit.</p>"
        ),
        width=1200,
    )
    page = file_html(column(heading, table, tabs), INLINE, title=f"light curves: {run.outdir.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    return out
