"""The NEOWISE Single-exposure Source Table's columns: names, Arrow types, units, descriptions.

The list (``data/columns.tsv``) holds the 143 columns stored in each Parquet file plus the two
hive keys ``healpix_k0`` and ``healpix_k5``, which exist only in the partition paths.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

#: Hive partition keys: in the paths of the files, never in the files themselves.
PARTITION_KEYS = ("healpix_k0", "healpix_k5")

#: Catalogue columns every light curve carries (in this order): the detection, its time and
#: position, its fluxes (DN) and the magnitudes their zero points come from
#: (:func:`neowise_lightcurves.photometry.zero_points`).
LIGHTCURVE_COLUMNS = (
    "cntr",
    "mjd",
    "ra",
    "dec",
    "w1flux",
    "w1sigflux",
    "w2flux",
    "w2sigflux",
    "w1mpro",
    "w1sigmpro",
    "w2mpro",
    "w2sigmpro",
)

#: Columns the association diagnostics read (:func:`neowise_lightcurves.association.blending`);
#: ``cc_flags`` is also what the default cut tests.
ASSOCIATION_COLUMNS = ("nb", "na", "cc_flags")

#: What a match job reads and caches whatever the configuration: :data:`LIGHTCURVE_COLUMNS`
#: then :data:`ASSOCIATION_COLUMNS`. Any other column (of the cuts or ``extra_columns``) is
#: read by a job of its own, only for the detections already matched, and cached beside them.
BASE_COLUMNS = LIGHTCURVE_COLUMNS + ASSOCIATION_COLUMNS

#: The columns IRSA's notebook reads: its six and ``cc_flags``, which its filter tests
#: (``match.columns: notebook``).
NOTEBOOK_COLUMNS = ("cntr", "ra", "dec", "mjd", "w1flux", "w2flux", "cc_flags")

#: Where each match lies in the catalogue, kept in a match cache: the file's path and the row's
#: index in that file, so that a column asked for later (a new cut's) is read for the matched
#: rows alone (:func:`neowise_lightcurves.matching.read_at`), never by matching again.
LOCATION_COLUMNS = ("catalog_file", "catalog_row")

#: Quality columns the cut presets use (:data:`neowise_lightcurves.cuts.PRESETS`); cached when
#: a configured cut names them.
QUALITY_COLUMNS = (
    "cc_flags",
    "moon_masked",
    "qual_frame",
    "qi_fact",
    "saa_sep",
    "nb",
    "na",
    "ph_qual",
    "w1rchi2",
    "w2rchi2",
    "sso_flg",
)


@dataclass(frozen=True)
class Column:
    """One catalogue column as documented in ``columns.tsv``."""

    name: str
    type: str  # Arrow type name: "string", "int64" or "double"
    unit: str
    nullable: bool
    description: str


@cache
def catalog_columns() -> tuple[Column, ...]:
    """All 145 documented columns (143 stored in the files and the 2 hive keys), in file order."""
    text = files("neowise_lightcurves").joinpath("data/columns.tsv").read_text()
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return tuple(
        Column(
            name=r["name"],
            type=r["parquet_or_arrow_type_best_guess"],
            unit=r["unit"] or "",
            nullable=r["nullable"] == "yes",
            description=r["description"],
        )
        for r in rows
    )


@cache
def column_names() -> tuple[str, ...]:
    """Names of the 143 columns stored in the Parquet files (hive keys excluded)."""
    return tuple(c.name for c in catalog_columns() if c.name not in PARTITION_KEYS)


def file_schema():
    """Arrow schema of a catalogue file, with ``unit`` and ``description`` field metadata."""
    import pyarrow as pa

    fields = []
    for c in catalog_columns():
        if c.name in PARTITION_KEYS:
            continue
        meta = {"description": c.description}
        if c.unit:
            meta["unit"] = c.unit
        fields.append(
            pa.field(c.name, pa.type_for_alias(c.type), nullable=c.nullable, metadata=meta)
        )
    return pa.schema(fields)


def check_known(names) -> None:
    """Raise ValueError naming every one of ``names`` the catalogue does not have."""
    known = set(column_names())
    unknown = [c for c in names if c not in known]
    if unknown:
        raise ValueError(f"unknown catalogue column(s): {', '.join(unknown)}")


def base_columns(which: str = "default") -> tuple[str, ...]:
    """The columns every match job caches: ``"default"`` :data:`BASE_COLUMNS`, ``"notebook"``
    :data:`NOTEBOOK_COLUMNS` (the light curves' other base columns are then null: no flux
    uncertainties, the zero points the calibration periods'
    (:data:`neowise_lightcurves.photometry.PERIOD_ZERO_POINTS`), no blending diagnostics)."""
    if which == "default":
        return BASE_COLUMNS
    if which == "notebook":
        return NOTEBOOK_COLUMNS
    raise ValueError(f"match.columns must be 'default' or 'notebook', not {which!r}")


def side_columns(base: tuple[str, ...], wanted) -> tuple[str, ...]:
    """The columns of ``wanted`` (the cuts' and ``extra_columns``) not in ``base``, in the
    order given, each once: what a match's second job reads (:func:`cached_columns`)."""
    check_known(wanted)
    out: list[str] = []
    for c in wanted:
        if c not in base and c not in out:
            out.append(c)
    return tuple(out)


def cached_columns(
    extra: tuple[str, ...] | list[str] = (), which: str = "default"
) -> tuple[str, ...]:
    """Catalogue columns a light curve holds: the base ones (:func:`base_columns`), then those
    of ``extra`` (the cuts' and ``extra_columns``) not among them.

    Raises
    ------
    ValueError
        If ``extra`` names a column the catalogue does not have.
    """
    base = base_columns(which)
    return base + side_columns(base, extra)
