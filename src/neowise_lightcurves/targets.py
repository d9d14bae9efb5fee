"""Target tables: reading (astropy Table I/O, VizieR over TAP) and validating.

A valid target table has a unique string ``target_id`` and ``ra``, ``dec`` in degrees (ICRS),
``0 <= ra < 360`` and ``-90 <= dec <= 90``, optionally proper motions ``pmra``, ``pmdec`` (mas/yr)
and their reference epoch ``pm_epoch`` (Julian year), and keeps the source's other columns.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from .target_formats import TargetError, table_format

log = logging.getLogger(__name__)

#: Column names tried, in order, when the config names none.
DEFAULT_ID_COLUMNS = ("target_id", "id", "uid", "name", "objid", "source_id")
DEFAULT_RA_COLUMNS = ("ra", "RA", "RAJ2000", "ra_deg", "RA_ICRS", "raj2000")
DEFAULT_DEC_COLUMNS = ("dec", "DEC", "Dec", "DEJ2000", "dec_deg", "DE_ICRS", "dej2000")
#: Proper motion (mas/yr; RA's including cos δ, as in Gaia) and its reference epoch (Julian year).
DEFAULT_PMRA_COLUMNS = ("pmra", "pmRA", "PMRA", "pm_ra", "pmRA_cosDE", "pmra_cosdec")
DEFAULT_PMDEC_COLUMNS = ("pmdec", "pmDE", "pmDEC", "PMDEC", "pm_dec")
DEFAULT_EPOCH_COLUMNS = ("pm_epoch", "ref_epoch", "Epoch", "epoch")
#: Largest proper motion accepted (mas/yr; Barnard's star moves 10,400).
MAX_PM_MAS_PER_YEAR = 20_000.0
#: Reference epochs accepted (Julian years).
EPOCH_RANGE = (1900.0, 2100.0)

#: Rows an error message lists before it says how many more.
_MAX_LISTED = 5


def read_table(path: str) -> pd.DataFrame:
    """Read a targets file (CSV, ECSV, FITS, VOTable or Parquet) into a DataFrame."""
    from astropy.table import Table

    fmt = table_format(path)
    if not os.path.exists(path):
        raise TargetError(f"targets file {path!r} does not exist")
    try:
        table = Table.read(path, format=fmt)
    except Exception as err:  # astropy raises many kinds; all mean "unreadable"
        raise TargetError(f"cannot read targets file {path!r} as {fmt}: {err}") from err
    return table_to_frame(table)


def table_to_frame(table) -> pd.DataFrame:
    """An astropy Table as a DataFrame: masked as null, bytes decoded, N-d columns dropped."""
    multidim = [name for name in table.colnames if len(table[name].shape) > 1]
    if multidim:
        log.warning("dropping multidimensional target columns: %s", ", ".join(multidim))
        table = table[[n for n in table.colnames if n not in multidim]]
    frame = table.to_pandas()
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(
                lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            )
    return frame


#: Most rows a VizieR target query may answer when ``targets.vizier.row_limit`` is null (its
#: ``MAXREC`` is this + 1): a million targets, the largest sample the workflow is sized for.
VIZIER_ROW_LIMIT = 1_000_000


def query_vizier(
    tap_url: str, table: str, columns: tuple[str, ...] | list[str], row_limit: int | None
) -> pd.DataFrame:
    """Run ``SELECT {columns} FROM "{table}"`` over TAP at ``tap_url`` with pyvo (config.yaml's
    ``targets.vizier`` is the notebook's query) and return every row.

    ``row_limit`` is the most rows the table may have (None: :data:`VIZIER_ROW_LIMIT`): the
    query states it (``MAXREC``) and its answer's overflow status is checked
    (:func:`neowise_lightcurves.tap.run_sync`); a table with more rows, or an answer the
    service cut at a lower limit of its own, fails with
    :class:`~neowise_lightcurves.tap.TapOverflowError` naming the service, the query and the
    limit. A cut answer is never returned."""
    from . import tap

    adql = f'SELECT {", ".join(columns)} FROM "{table}"'
    limit = VIZIER_ROW_LIMIT if row_limit is None else int(row_limit)
    hint = (
        f"the table has more rows than targets.vizier.row_limit ({limit:,}): raise it"
        if row_limit is not None
        else f"the table has more than {limit:,} rows, the default when "
        "targets.vizier.row_limit is null: set it higher"
    ) + " (a service's own limit cannot be raised from here: take the table as a file instead)"
    result = tap.run_sync(
        tap_url, adql, max_rows=limit, what=f"targets from VizieR ({table})", limit_hint=hint
    )
    return table_to_frame(result)


def _pick(frame: pd.DataFrame, given: str | None, defaults: tuple[str, ...], what: str) -> str:
    if given is not None:
        if given not in frame.columns:
            raise TargetError(
                f"{what} column {given!r} is not in the targets table "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
        return given
    for name in defaults:
        if name in frame.columns:
            return name
    raise TargetError(
        f"the targets table has no {what} column: none of {', '.join(defaults)} "
        f"(columns: {', '.join(map(str, frame.columns))}); name it with targets.{what}_column"
    )


def _pick_optional(
    frame: pd.DataFrame, given: str | None, defaults: tuple[str, ...], what: str
) -> str | None:
    """Like :func:`_pick`, but None when the config names no column and no default is present."""
    if given is not None:
        return _pick(frame, given, defaults, what)
    return next((name for name in defaults if name in frame.columns), None)


def _number(frame: pd.DataFrame, name: str, must: str) -> np.ndarray:
    """A numeric column (NaN where empty); non-numeric values are refused, naming the rows and
    saying what the column ``must`` hold."""
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~frame[name].isna().to_numpy()
    if bad.any():
        first = frame[name].to_numpy()[np.flatnonzero(bad)[0]]
        raise TargetError(
            f"column {name!r} has non-numeric values at {_rows(bad)} (e.g. {first!r}); {must}"
        )
    return values


def proper_motion_columns(
    frame: pd.DataFrame,
    pmra_column: str | None,
    pmdec_column: str | None,
    epoch_column: str | None,
    pm_epoch: float,
) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """Validated ``pmra``, ``pmdec`` (mas/yr) and ``pm_epoch`` (Julian year) of a targets
    table, and the names of the columns they came from; ``({}, ())`` when it has no proper
    motion columns. Empty or NaN proper motions mean no motion (0); an empty epoch is
    ``pm_epoch``."""
    pmra_name = _pick_optional(frame, pmra_column, DEFAULT_PMRA_COLUMNS, "pmra")
    pmdec_name = _pick_optional(frame, pmdec_column, DEFAULT_PMDEC_COLUMNS, "pmdec")
    if pmra_name is None and pmdec_name is None:
        return {}, ()
    if pmra_name is None or pmdec_name is None:
        have, lack = ("pmra", "pmdec") if pmdec_name is None else ("pmdec", "pmra")
        defaults = DEFAULT_PMDEC_COLUMNS if lack == "pmdec" else DEFAULT_PMRA_COLUMNS
        raise TargetError(
            f"the targets table has a {have} column ({pmra_name or pmdec_name!r}) but no {lack} "
            f"column: none of {', '.join(defaults)}; name it with targets.{lack}_column, or set "
            "match.proper_motion: false"
        )
    out = {}
    for key, name in (("pmra", pmra_name), ("pmdec", pmdec_name)):
        values = _number(frame, name, "it must hold proper motions in mas/yr")
        bad = np.abs(values) > MAX_PM_MAS_PER_YEAR
        if bad.any():
            raise TargetError(
                f"column {name!r} is beyond {MAX_PM_MAS_PER_YEAR:,.0f} mas/yr at {_rows(bad)} "
                "(proper motions are in mas/yr; Barnard's star moves 10,400)"
            )
        out[key] = np.nan_to_num(values, nan=0.0)
    epoch_name = _pick_optional(frame, epoch_column, DEFAULT_EPOCH_COLUMNS, "epoch")
    epoch = np.full(len(frame), float(pm_epoch))
    if epoch_name is not None:
        given = _number(
            frame, epoch_name, "it must hold reference epochs as Julian years (e.g. 2016.0)"
        )
        lo, hi = EPOCH_RANGE
        bad = (given < lo) | (given > hi)
        if bad.any():
            raise TargetError(
                f"column {epoch_name!r} is outside {lo:g}-{hi:g} at {_rows(bad)}; reference "
                "epochs are Julian years (e.g. 2016.0)"
            )
        epoch = np.where(np.isnan(given), epoch, given)
    out["pm_epoch"] = epoch
    return out, tuple(n for n in (pmra_name, pmdec_name, epoch_name) if n is not None)


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask) + 1
    listed = ", ".join(map(str, rows[:_MAX_LISTED]))
    more = f" and {len(rows) - _MAX_LISTED} more" if len(rows) > _MAX_LISTED else ""
    return f"row{'s' if len(rows) > 1 else ''} {listed}{more}"


def _sexagesimal(frame: pd.DataFrame, name: str, unit: str) -> np.ndarray:
    """Parse ``"12:34:56.7"``-style strings (``unit``: ``"hourangle"`` or ``"deg"``) to degrees."""
    import astropy.units as u
    from astropy.coordinates import Angle

    raw = frame[name]
    if raw.isna().any():
        raise TargetError(f"column {name!r} is empty or NaN at {_rows(raw.isna().to_numpy())}")
    text = raw.astype(str).str.strip().to_numpy()
    try:
        return Angle(text, unit=getattr(u, unit)).deg.astype(np.float64)
    except Exception:
        for i, value in enumerate(text):
            try:
                Angle(value, unit=getattr(u, unit))
            except Exception as err:
                raise TargetError(
                    f"column {name!r} at row {i + 1}: cannot read {value!r} as a "
                    f"sexagesimal angle in {unit} ({err})"
                ) from None
        raise


def _coordinate(frame: pd.DataFrame, name: str) -> np.ndarray:
    values = _number(frame, name, "coordinates must be decimal degrees")
    if np.isnan(values).any():
        raise TargetError(f"column {name!r} is empty or NaN at {_rows(np.isnan(values))}")
    return values


def normalize(
    frame: pd.DataFrame,
    *,
    id_column: str | None,
    ra_column: str | None,
    dec_column: str | None,
    duplicate_ids: str,
    sexagesimal: bool,
    proper_motion: bool,
    pmra_column: str | None,
    pmdec_column: str | None,
    epoch_column: str | None,
    pm_epoch: float,
) -> pd.DataFrame:
    """Validate a targets table and return ``target_id``, ``ra``, ``dec`` (with proper motion:
    ``pmra``, ``pmdec``, ``pm_epoch``) + its other columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read.
    id_column, ra_column, dec_column : str or None
        Column names; None: the first of :data:`DEFAULT_ID_COLUMNS` (etc.) present.
    duplicate_ids : {"reject", "suffix"}
        What to do with repeated ids: fail, or make them unique as ``id``, ``id_2``, ``id_3``...
    sexagesimal : bool
        Read RA as hours (``"12:34:56.7"``, ``"12h34m56.7s"``) and Dec as degrees
        (``"-01:02:03"``) where the columns hold strings.
    proper_motion : bool
        Read proper motions, when the table has them (:func:`proper_motion_columns`): ``pmra``
        (μα cos δ) and ``pmdec`` in mas/yr (empty: no motion) and the reference epoch of the
        positions, ``pm_epoch``, a Julian year (from ``epoch_column``, else ``pm_epoch``).
    pmra_column, pmdec_column, epoch_column : str or None
        Column names; None: the first of :data:`DEFAULT_PMRA_COLUMNS` (etc.) present, if any.
    pm_epoch : float
        Reference epoch (Julian year) where no epoch column gives one.

    Raises
    ------
    TargetError
        Empty table, missing columns, non-numeric, NaN or out-of-range coordinates, duplicate ids,
        non-numeric or out-of-range proper motions or epochs.
    """
    if len(frame) == 0:
        raise TargetError("the targets table is empty")
    idc = _pick(frame, id_column, DEFAULT_ID_COLUMNS, "id")
    rac = _pick(frame, ra_column, DEFAULT_RA_COLUMNS, "ra")
    decc = _pick(frame, dec_column, DEFAULT_DEC_COLUMNS, "dec")
    textual = sexagesimal and not pd.api.types.is_numeric_dtype(frame[rac])
    ra = _sexagesimal(frame, rac, "hourangle") if textual else _coordinate(frame, rac)
    textual = sexagesimal and not pd.api.types.is_numeric_dtype(frame[decc])
    dec = _sexagesimal(frame, decc, "deg") if textual else _coordinate(frame, decc)
    bad = (ra < 0) | (ra >= 360)
    if bad.any():
        raise TargetError(f"column {rac!r} is outside [0, 360) degrees at {_rows(bad)}")
    bad = np.abs(dec) > 90
    if bad.any():
        raise TargetError(f"column {decc!r} is outside [-90, 90] degrees at {_rows(bad)}")
    # ids are kept exactly as given (spaces too); only missing or blank ones are refused
    null_id = frame[idc].isna().to_numpy()
    ids = frame[idc].astype(str)
    null_id = null_id | (ids.str.strip() == "").to_numpy()
    if null_id.any():
        raise TargetError(f"id column {idc!r} is empty at {_rows(null_id)}")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        if duplicate_ids == "suffix":
            rank = ids.groupby(ids).cumcount().to_numpy()
            ids = ids.where(rank == 0, ids + "_" + (rank + 1).astype(str))
            if ids.duplicated().any():
                raise TargetError(f"id column {idc!r}: duplicate ids remain after suffixing")
        else:
            names = sorted(set(ids[dup]))[:_MAX_LISTED]
            raise TargetError(
                f"id column {idc!r} has duplicate ids at {_rows(dup)} ({', '.join(names)}); "
                "set targets.duplicate_ids: suffix to make them unique"
            )
    out = pd.DataFrame({"target_id": ids.to_numpy(dtype=object), "ra": ra, "dec": dec})
    out["target_id"] = out["target_id"].astype("string")
    used: tuple[str, ...] = ()
    if proper_motion:
        motion, used = proper_motion_columns(
            frame, pmra_column, pmdec_column, epoch_column, pm_epoch
        )
        for name, values in motion.items():
            out[name] = values
    for name in frame.columns:
        if name in (idc, rac, decc) or name in used:
            continue
        new = str(name) if str(name) not in out.columns else f"{name}_input"
        out[new] = frame[name].to_numpy()
    return out


#: The ``targets`` settings :func:`normalize` takes, by its keyword names.
NORMALIZE_SETTINGS = (
    "id_column",
    "ra_column",
    "dec_column",
    "duplicate_ids",
    "sexagesimal",
    "pmra_column",
    "pmdec_column",
    "epoch_column",
    "pm_epoch",
)


def normalize_with(frame: pd.DataFrame, settings: dict, proper_motion: bool) -> pd.DataFrame:
    """:func:`normalize` with the configuration's ``targets`` section ``settings`` (and
    ``match.proper_motion``): what the workflow's targets stage and fetch() both do."""
    chosen = {k: settings[k] for k in NORMALIZE_SETTINGS}
    return normalize(frame, proper_motion=proper_motion, **chosen)
