"""The explorer: a local web page (a Bokeh server application) over a run's outputs.

The summary is read once when the server starts; a page sorts and filters it on the server and
sends one page of rows at a time (:data:`PAGE_ROWS`) and at most :data:`SKY_POINTS` points of
the sky map, so that it opens in seconds at 10^6 targets. Selecting a target reads its rows
alone (:func:`neowise_lightcurves.rundata.target_rows`) and draws them with the figures of
:mod:`neowise_lightcurves.interactive`. A user's flags go to a file beside the run
(:mod:`neowise_lightcurves.flags`). Bokeh's JavaScript comes from its own package: the page
loads nothing from the internet.

Start it with ``neowise-lightcurves explore results/`` (:mod:`neowise_lightcurves.cli`).
"""

from __future__ import annotations

import html
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import interactive, rundata, surveys
from .flags import CHOICES, Flags, default_path
from .outputs import PER_TARGET

#: Rows of the summary table sent at once.
PAGE_ROWS = 100
#: Most targets drawn on the sky map (the first ones in the table's order); all of them show
#: in its background, as counts per square degree.
SKY_POINTS = 5_000
#: The summary columns the target's panel lists, by heading.
PANEL = {
    "light curve": (
        "n_detections",
        "n_detections_before_cuts",
        "n_epochs",
        "n_years",
        "time_span_days",
        "w1_mag_median",
        "w2_mag_median",
        "w1_w2",
        "w1_chi2_red",
        "w2_chi2_red",
        "w1_amplitude_mag",
        "w2_amplitude_mag",
        "period_days",
        "period_fap",
        "period_significant",
        "period_alias",
    ),
    "association": (
        "offset_median_arcsec",
        "centroid_east_arcsec",
        "centroid_north_arcsec",
        "offset_scatter_arcsec",
        "frac_blended",
        "frac_contaminated",
        "second_source",
        "second_source_sep_arcsec",
        "second_source_frac",
    ),
}
#: The cut detections' toggle, off.
CUT_LABEL = "read the detections the cuts removed"
#: Orders of the table kept for the pages to share (:meth:`Explorer.order`).
ORDERS_KEPT = 4
#: Keys that move to the next and the previous target.
NEXT_KEYS, PREVIOUS_KEYS = ("j", "n"), ("k", "p")


@dataclass
class Explorer:
    """What every page of one server shares: the run, its flags, the sky's target counts.

    Attributes
    ----------
    run : neowise_lightcurves.rundata.Run
    flags : neowise_lightcurves.flags.Flags
    density : numpy.ndarray
        Targets per 1° × 1° cell, (dec, ra) from (-90, 0); NaN where none.
    ids : pyarrow.ChunkedArray
        The summary's ``target_id`` as Arrow strings (looked up without a Python string each).
    orders : dict
        The last few orders of the table (:meth:`order`), shared by every page.
    """

    run: rundata.Run
    flags: Flags
    density: np.ndarray
    ids: pa.ChunkedArray
    orders: OrderedDict = field(default_factory=OrderedDict)

    def row_of(self, target_id: str) -> int:
        """The summary row of ``target_id`` (-1: none)."""
        return pc.index(self.ids, pa.scalar(target_id, pa.string())).as_py()

    def order(self, query: str, column: str, ascending: bool) -> np.ndarray:
        """The summary rows that ``query`` (a pandas query; empty: all; ``@flagged``, ``@real``,
        ``@artefact`` name the flagged targets' ids: :meth:`Flags.lists`) selects, sorted by
        ``column`` (stable; NaN last), as a read-only array shared by the pages that ask for
        the same (the last :data:`ORDERS_KEPT`).

        Raises
        ------
        ValueError
            ``query`` fails, or gives no True/False for each target.
        """
        key = (query, column, ascending)
        flagged = "@" in query  # the flags change: not kept
        if key in self.orders and not flagged:
            self.orders.move_to_end(key)
            return self.orders[key]
        summary = self.run.summary
        view = None
        if query:
            try:
                mask = summary.eval(query, local_dict=self.flags.lists())
            except Exception as err:  # pandas raises many kinds for a bad query
                raise ValueError(str(err)) from err
            if not (isinstance(mask, pd.Series) and pd.api.types.is_bool_dtype(mask.dtype)):
                raise ValueError("it does not give True/False for each target")
            view = np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))
        values = summary[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            x = values.to_numpy(dtype=float, na_value=np.nan)
            x = x if view is None else x[view]
            rank = np.argsort(x if ascending else -x, kind="stable")  # NaN last either way
        else:
            x = values if view is None else values.iloc[view]
            ranked = x.reset_index(drop=True).sort_values(
                ascending=ascending, na_position="last", kind="stable"
            )
            rank = ranked.index.to_numpy()
        order = rank if view is None else view[rank]
        order = np.asarray(order, dtype=np.int64)
        order.flags.writeable = False
        if flagged:
            return order
        self.orders[key] = order
        while len(self.orders) > ORDERS_KEPT:
            self.orders.popitem(last=False)
        return order


def load(outdir: str | os.PathLike, flags_path: str | os.PathLike | None = None) -> Explorer:
    """Read a run's summary and flags (:func:`neowise_lightcurves.flags.default_path` unless
    ``flags_path``) for :func:`make_document`."""
    run = rundata.open_run(outdir)
    flags = Flags(flags_path or default_path(outdir))
    counts, _, _ = np.histogram2d(
        run.summary["dec"].to_numpy(dtype=float),
        run.summary["ra"].to_numpy(dtype=float) % 360.0,
        bins=(180, 360),
        range=((-90, 90), (0, 360)),
    )
    ids = pa.chunked_array([pa.array(run.summary["target_id"], pa.string())])
    explorer = Explorer(run, flags, np.where(counts > 0, counts, np.nan), ids)
    explorer.order("", "n_detections", False)  # the first page's, ready
    pa.default_memory_pool().release_unused()  # what reading the summary took, given back
    return explorer


def table_data(summary: pd.DataFrame, rows: np.ndarray, flags: Flags) -> dict:
    """The table's columns for the summary rows ``rows``: ``flag``, then every column."""
    page = summary.iloc[rows]
    data = {"flag": np.array(flags.column(page["target_id"].astype(str)), dtype=object)}
    for c in page.columns:
        s = page[c]
        if pd.api.types.is_bool_dtype(s):
            data[c] = s.fillna(False).astype(bool).to_numpy()
        elif pd.api.types.is_numeric_dtype(s):
            data[c] = s.to_numpy(dtype=float, na_value=np.nan)
        else:
            data[c] = s.astype(str).to_numpy(dtype=object)
    return data


def table_columns(run: rundata.Run) -> list:
    """The table's columns: ``flag``, then every summary column, its unit in its heading;
    numbers to 4 decimals, in scientific notation below 10^-3 and from 10^5."""
    from bokeh.models import ScientificFormatter, TableColumn

    columns = [TableColumn(field="flag", title="flag", width=90)]
    for c in run.summary.columns:
        unit = run.units.get(c)
        title = f"{c} [{unit}]" if unit else c
        options = dict(field=c, title=title, width=max(80, 7 * len(title)))
        if pd.api.types.is_float_dtype(run.summary[c]):
            options["formatter"] = ScientificFormatter(precision=4, nan_format="–")
        columns.append(TableColumn(**options))
    return columns


def _value(v, unit: str | None) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        text = "–" if not np.isfinite(v) else f"{v:.5g}"
    else:
        text = str(v)
    return f"{text} {unit}" if unit and text != "–" else text


def target_panel(
    run: rundata.Run, info: pd.Series, files: pd.DataFrame | None, link: str = "files/"
) -> str:
    """HTML of a target's summary values (with units), association diagnostics and links to
    its per-target files (``link`` + their path under ``per_target/``: the server serves them
    under ``files/``; None: being read)."""
    tid = html.escape(str(info["target_id"]))
    parts = [
        f"<h3 style='margin:0'>{tid}</h3>",
        f"<div>RA {info['ra']:.6f}°, Dec {info['dec']:+.6f}°, "
        f"group {html.escape(str(info.get('group', '')))}</div>",
    ]
    for heading, names in PANEL.items():
        rows = "".join(
            f"<tr><td>{n}</td><td style='text-align:right'>"
            f"{html.escape(_value(info[n], run.units.get(n)))}</td></tr>"
            for n in names
            if n in info.index
        )
        parts.append(f"<b>{heading}</b><table style='font-size:12px'>{rows}</table>")
    if files is None:
        parts.append("<b>files</b><div>…</div>")
        return "".join(parts)
    links = " ".join(
        f"<a href='{html.escape(link + p)}' target='_blank'>{k}.{f}</a>"
        for k, f, p in files[["kind", "format", "path"]].itertuples(index=False)
    )
    parts.append(f"<b>files</b><div>{links or 'none written (outputs.per_target_formats)'}</div>")
    return "".join(parts)


def make_document(explorer: Explorer, doc) -> None:
    """Fill a Bokeh document with the explorer's page (one per browser tab)."""
    from bokeh.layouts import column, row
    from bokeh.models import (
        Button,
        ColorBar,
        ColumnDataSource,
        CustomJS,
        DataTable,
        Div,
        LinearColorMapper,
        LogColorMapper,
        NumericInput,
        RadioButtonGroup,
        Range1d,
        Select,
        TextInput,
        Toggle,
    )
    from bokeh.palettes import Greys256, Viridis256
    from bokeh.plotting import figure

    run, flags = explorer.run, explorer.flags
    summary = run.summary
    ids = summary["target_id"]
    state = {"order": np.arange(len(summary)), "page": 0, "pos": -1, "loading": False}

    # --- the table -------------------------------------------------------------------------
    filter_input = TextInput(
        title="filter (Enter): a pandas query, e.g. period_significant and n_detections > 100, "
        "target_id in @real",
        name="filter",
        width=620,
    )
    sort_by = Select(
        title="sort by (every target)",
        value="n_detections",
        options=list(summary.columns),
        name="sort_by",
        width=220,
    )
    sort_order = Select(
        title="order",
        value="descending",
        options=["descending", "ascending"],
        name="sort_order",
        width=120,
    )
    previous_page = Button(label="◀ page", name="previous_page", width=80)
    next_page = Button(label="page ▶", name="next_page", width=80)
    page_info = Div(name="page_info", width=300, height=20)
    status = Div(name="status", width=1000, height=20)
    table_source = ColumnDataSource(table_data(summary, np.arange(0), flags), name="table_source")
    table = DataTable(
        source=table_source,
        columns=table_columns(run),
        width=1400,
        height=280,
        sortable=False,
        selectable=True,
        index_position=None,
        autosize_mode="none",
        reorderable=False,
        name="table",
    )
    cursor = NumericInput(value=-1, name="cursor", visible=False)
    # BokehJS redraws a table when its view's indices change, not when new rows of the same
    # count replace the old ones (a new sort order): told so here
    table_source.js_on_change(
        "data", CustomJS(args=dict(view=table.view), code="view.change.emit()")
    )

    # --- the sky ---------------------------------------------------------------------------
    numeric = run.numeric_columns
    colour_by = Select(
        title="colour the sky by",
        value="w1_chi2_red" if "w1_chi2_red" in numeric else numeric[0],
        options=numeric,
        name="colour_by",
        width=220,
    )
    sky = figure(
        width=620,
        height=330,
        x_range=Range1d(360, 0),
        y_range=Range1d(-90, 90),
        x_axis_label="RA (deg)",
        y_axis_label="Dec (deg)",
        tools="pan,wheel_zoom,box_zoom,reset,tap",
        tooltips=[("target", "@target_id"), ("value", "@value")],
        name="sky",
        title="the targets: the first in the table's order as points, all as counts per deg²",
    )
    density = LogColorMapper(palette=Greys256[::-1][40:], low=1, nan_color=(0, 0, 0, 0))
    sky.image(image=[explorer.density], x=0, y=-90, dw=360, dh=180, color_mapper=density)
    sky_source = ColumnDataSource(
        {"ra": [], "dec": [], "target_id": [], "value": []}, name="sky_source"
    )
    sky_colours = LinearColorMapper(palette=Viridis256, nan_color="#cccccc")
    sky.scatter(
        "ra",
        "dec",
        source=sky_source,
        size=6,
        line_color=None,
        color={"field": "value", "transform": sky_colours},
    )
    here = ColumnDataSource({"ra": [], "dec": []}, name="selected_position")
    sky.scatter(
        "ra",
        "dec",
        source=here,
        size=16,
        marker="circle",
        fill_alpha=0,
        line_color="red",
        line_width=2,
    )
    sky.add_layout(ColorBar(color_mapper=sky_colours, width=8), "right")

    # --- the target ------------------------------------------------------------------------
    nothing = interactive.target_data(
        pd.DataFrame({c: [] for c in ("mjd", "ra", "dec", "year", "cc_flags", *_LC_COLUMNS)}),
        pd.DataFrame({c: [] for c in _BINNED_COLUMNS}),
        pd.Series({"ra": 0.0, "dec": 0.0}),
    )
    sources = interactive.new_sources(nothing)
    lightcurve = interactive.lightcurve_figure(sources, None, width=1400)
    visit_fig = interactive.visit_figure(sources, width=460)
    folded = interactive.folded_figure(sources, None, width=460)
    radius = float(run.meta.get("radius_arcsec", "nan"))
    offsets = interactive.offsets_figure(
        sources, radius if np.isfinite(radius) else None, width=460
    )
    units = interactive.unit_select(sources, [lightcurve, visit_fig, folded])
    visits = interactive.visit_select(sources)
    show_cut = Toggle(label=CUT_LABEL, name="show_cut", width=330)
    panel = Div(name="target_info", width=330, height=480)
    goto = TextInput(title="go to a target id (Enter)", name="goto", width=300)
    flag_choice = RadioButtonGroup(
        labels=["none", "real", "artefact"], active=0, name="flag_choice"
    )
    flag_note = TextInput(title="note (Enter saves)", name="flag_note", width=300)
    flag_status = Div(
        name="flag_status",
        width=460,
        height=40,
        text=f"flags are saved to {html.escape(str(flags.path))}",
    )
    help_div = Div(
        text=(
            "<b>Keys</b>: <kbd>j</kbd>/<kbd>n</kbd> next target, <kbd>k</kbd>/<kbd>p</kbd> "
            "previous. Click a row or a point on the sky to select; click a binned epoch to "
            "zoom into its visit; click legend entries to hide or show points."
        ),
        width=900,
    )

    def set_status(text: str, error: bool = False) -> None:
        colour = "#b00" if error else "#333"
        status.text = f"<span style='color:{colour}'>{html.escape(text)}</span>"

    def refresh_sky() -> None:
        rows = state["order"][:SKY_POINTS]
        values = summary[colour_by.value].to_numpy(dtype=float, na_value=np.nan)[rows]
        sky_source.data = {
            "ra": summary["ra"].to_numpy(dtype=float)[rows],
            "dec": summary["dec"].to_numpy(dtype=float)[rows],
            "target_id": ids.iloc[rows].astype(str).to_numpy(dtype=object),
            "value": values,
        }
        finite = values[np.isfinite(values)]
        if len(finite):
            low, high = np.percentile(finite, [2, 98])
            sky_colours.low, sky_colours.high = float(low), float(max(high, low + 1e-9))
        sky.title.text = (
            f"{len(rows):,} of {len(state['order']):,} targets as points, coloured by "
            f"{colour_by.value}; all {len(summary):,} as counts per deg²"
        )

    def refresh_table() -> None:
        order, page = state["order"], state["page"]
        rows = order[page * PAGE_ROWS : (page + 1) * PAGE_ROWS]
        table_source.data = table_data(summary, rows, flags)
        pages = max(1, -(-len(order) // PAGE_ROWS))
        page_info.text = f"page {page + 1} of {pages:,} ({len(order):,} targets)"
        pos = state["pos"]
        inside = page * PAGE_ROWS <= pos < (page + 1) * PAGE_ROWS
        table_source.selected.indices = [pos - page * PAGE_ROWS] if inside else []

    def reorder() -> None:
        query = filter_input.value.strip()
        ascending = sort_order.value == "ascending"
        try:
            state["order"] = explorer.order(query, sort_by.value, ascending)
        except ValueError as err:  # a bad query: said, and nothing filtered
            set_status(f"filter {query!r} failed: {err}", error=True)
            state["order"] = explorer.order("", sort_by.value, ascending)
        else:
            n, total = len(state["order"]), len(summary)
            if query:
                set_status(f"{n:,} of {total:,} targets match {query!r}")
            else:
                set_status(f"{total:,} targets in {run.outdir}")
        state["page"], state["pos"] = 0, -1
        refresh_table()
        refresh_sky()
        if len(state["order"]):
            select(0)

    def select(pos: int) -> None:
        order = state["order"]
        if not len(order):
            return
        pos = int(min(max(pos, 0), len(order) - 1))
        if pos == state["pos"]:
            cursor.value = pos
            return
        state["pos"] = pos
        page = pos // PAGE_ROWS
        if page != state["page"]:
            state["page"] = page
            refresh_table()
        else:
            table_source.selected.indices = [pos - page * PAGE_ROWS]
        cursor.value = pos
        doc.hold("combine")  # the browser gets the target's changes in one message
        try:
            load_target(int(order[pos]))
        finally:
            doc.unhold()

    def load_target(row: int) -> None:
        info = summary.iloc[row]
        tid = str(info["target_id"])
        # its group from the summary in memory; its files once it is drawn
        rows = rundata.target_rows(run.outdir, tid, files=False, group=str(info["group"]))
        cut = rundata.cut_detections(run, tid, rows.exposures) if show_cut.active else None
        if not show_cut.active:
            show_cut.label = CUT_LABEL
        elif cut is None:
            show_cut.label = "cut detections: not in this run's cache, cannot be shown"
        else:
            show_cut.label = f"cut detections: {len(cut)} shown (crosses)"
        visit = 0
        data = interactive.target_data(rows.exposures, rows.epochs, info, units.value, cut, visit)
        for key, source in sources.items():
            source.data = data[key]
        options = interactive.visit_options(data["epochs"])
        visits.options = options
        visits.value = options[visit][0] if options else ""
        mep = surveys.mep_rows(rows.exposures["year"]) if len(rows.exposures) else []
        shade = lightcurve.select_one({"name": "mep_span"})
        if len(rows.exposures) and mep.any():
            t = rows.exposures.loc[mep, "mjd"]
            shade.left, shade.right, shade.visible = float(t.min()) - 5, float(t.max()) + 5, True
        else:
            shade.visible = False
        for r in lightcurve.renderers:
            if r.name and r.name.startswith("cut_"):
                r.visible = bool(show_cut.active)
        period = interactive.folding_period(info)
        folded.title.text = interactive.folded_title(period)
        mapper = offsets.select_one({"name": "offsets_colours"})
        if len(rows.exposures):
            mapper.low = float(rows.exposures["mjd"].min())
            mapper.high = float(rows.exposures["mjd"].max())
        lightcurve.title.text = f"{tid}: {len(rows.exposures)} exposures, {len(rows.epochs)} epochs"
        panel.text = target_panel(run, info, None)

        def show_files() -> None:
            if state.get("target") == tid:
                panel.text = target_panel(run, info, rundata.target_files(run.outdir, tid))
                pa.default_memory_pool().release_unused()

        doc.add_next_tick_callback(show_files)
        here.data = {"ra": [float(info["ra"])], "dec": [float(info["dec"])]}
        flag, note = flags.get(tid)
        state["loading"] = True
        try:
            flag_choice.active = CHOICES.index(flag)
            flag_note.value = note
        finally:
            state["loading"] = False
        state["target"] = tid
        pa.default_memory_pool().release_unused()  # what reading the rows took, given back

    def save_flag() -> None:
        tid = state.get("target")
        if state["loading"] or tid is None:
            return
        flags.set(tid, CHOICES[flag_choice.active], flag_note.value)
        flag, note = flags.get(tid)
        flag_status.text = (
            f"{html.escape(tid)}: {html.escape(flag or 'no flag')}"
            f"{': ' + html.escape(note) if note else ''}, saved to {html.escape(str(flags.path))}"
        )
        page_rows = state["order"][state["page"] * PAGE_ROWS : (state["page"] + 1) * PAGE_ROWS]
        table_source.patch(
            {"flag": [(slice(0, len(page_rows)), flags.column(ids.iloc[page_rows].astype(str)))]}
        )

    def on_table(attr, old, new) -> None:
        if new:
            select(state["page"] * PAGE_ROWS + new[0])

    def on_sky(attr, old, new) -> None:
        if new:
            select(new[0])
            sky_source.selected.indices = []

    def go_to(attr, old, new) -> None:
        tid = new.strip()
        if not tid:
            return
        row = explorer.row_of(tid)
        where = np.flatnonzero(state["order"] == row)
        if row >= 0 and not len(where):
            filter_input.value = ""  # not among the filtered targets: show them all
            where = np.flatnonzero(state["order"] == row)
        if len(where):
            select(int(where[0]))
            set_status(f"{tid}: row {int(where[0]) + 1} of {len(state['order']):,}")
        else:
            set_status(f"no target {tid!r} in the run", error=True)

    def on_cursor(attr, old, new) -> None:
        if new is not None and new != state["pos"]:
            select(int(new))

    def turn(step: int) -> None:
        pages = max(1, -(-len(state["order"]) // PAGE_ROWS))
        state["page"] = int(min(max(state["page"] + step, 0), pages - 1))
        refresh_table()

    table_source.selected.on_change("indices", on_table)
    sky_source.selected.on_change("indices", on_sky)
    cursor.on_change("value", on_cursor)
    goto.on_change("value", go_to)
    filter_input.on_change("value", lambda a, o, n: reorder())
    sort_by.on_change("value", lambda a, o, n: reorder())
    sort_order.on_change("value", lambda a, o, n: reorder())
    colour_by.on_change("value", lambda a, o, n: refresh_sky())
    previous_page.on_click(lambda: turn(-1))
    next_page.on_click(lambda: turn(1))
    flag_choice.on_change("active", lambda a, o, n: save_flag())
    flag_note.on_change("value", lambda a, o, n: save_flag())

    def on_show_cut(attr, old, new) -> None:
        if state["pos"] >= 0:  # the target drawn again, with or without them
            load_target(int(state["order"][state["pos"]]))

    show_cut.on_change("active", on_show_cut)

    keys = CustomJS(
        args=dict(cursor=cursor),
        code=f"""
    document.addEventListener('keydown', (event) => {{
        const el = event.composedPath()[0]
        const tag = (el && el.tagName) ? el.tagName.toUpperCase() : ''
        if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag) || (el && el.isContentEditable)) return
        if (event.ctrlKey || event.metaKey || event.altKey) return
        let step = 0
        if ({list(NEXT_KEYS)}.includes(event.key)) step = 1
        if ({list(PREVIOUS_KEYS)}.includes(event.key)) step = -1
        if (step === 0) return
        event.preventDefault()
        cursor.value = Math.max(0, (cursor.value ?? -1) + step)
    }})
    """,
    )
    doc.js_on_event("document_ready", keys)

    reorder()
    title = Div(
        text=f"<h2 style='margin:0'>NEOWISE light curves: {html.escape(str(run.outdir))}</h2>",
        width=1400,
    )
    doc.title = f"explorer: {run.outdir}"
    # one root per part: BokehJS lays a root out again whenever a text in it changes, so a
    # target's new values relay out its own part, not the table, the sky and every figure
    for part in (
        column(
            title,
            help_div,
            row(
                filter_input,
                sort_by,
                sort_order,
                column(Div(text="&nbsp;"), row(previous_page, next_page)),
                page_info,
            ),
            row(goto, column(Div(text="&nbsp;"), status)),
        ),
        table,
        row(units, visits, column(Div(text="&nbsp;"), show_cut)),
        lightcurve,
        row(visit_fig, folded, offsets),
        row(column(Div(text="<b>your flag</b>"), flag_choice, flag_note, flag_status), panel),
        column(colour_by, sky),
        cursor,
    ):
        doc.add_root(part)


#: Columns the empty sources are made from.
_LC_COLUMNS = tuple(
    f"{b}{c}" for b in ("w1", "w2") for c in ("flux", "sigflux", "flux_mjy", "sigflux_mjy")
)
_BINNED_COLUMNS = (
    "epoch",
    "mjd",
    "mjd_min",
    "mjd_max",
    "n_detections",
    *(
        f"{b}{c}"
        for b in ("w1", "w2")
        for c in (
            "_flux",
            "_flux_err",
            "_flux_mjy",
            "_flux_err_mjy",
            "_mag",
            "_mjd",
            "_upper_limit",
        )
    ),
)


def serve(
    outdir: str | os.PathLike,
    *,
    port: int = 5006,
    address: str = "127.0.0.1",
    flags_path: str | os.PathLike | None = None,
    show: bool = True,
) -> None:
    """Serve the explorer of the run ``outdir`` at ``http://{address}:{port}/`` until
    interrupted; with ``show``, open it in the default browser.

    The per-target files are served under ``files/`` (read-only).
    """
    from functools import partial

    from bokeh.application import Application
    from bokeh.application.handlers.function import FunctionHandler
    from bokeh.server.server import Server
    from tornado.web import StaticFileHandler

    explorer = load(outdir, flags_path)
    files = Path(outdir).resolve() / PER_TARGET
    server = Server(
        {"/": Application(FunctionHandler(partial(make_document, explorer)))},
        port=port,
        address=address,
        allow_websocket_origin=[f"localhost:{port}", f"127.0.0.1:{port}", f"{address}:{port}"],
        extra_patterns=[(r"/files/(.*)", StaticFileHandler, {"path": str(files)})],
    )
    server.start()
    url = f"http://{address}:{port}/"
    print(
        f"explorer of {outdir} ({len(explorer.run.summary):,} targets) at {url}; "
        f"flags in {explorer.flags.path}; Ctrl-C stops it",
        flush=True,
    )
    if show:
        server.io_loop.add_callback(server.show, "/")
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
