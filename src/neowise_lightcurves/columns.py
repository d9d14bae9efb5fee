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

#: Catalogue columns every light curve carries (in this order).
LIGHTCURVE_COLUMNS = (
    "cntr",
    "source_id",
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
    "w1snr",
    "w2snr",
)

#: Quality columns cached with every match so that changing the cuts never re-reads the catalogue.
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


def cached_columns(extra: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """Catalogue columns a match job stores: light-curve, quality, then ``extra`` ones.

    Raises
    ------
    ValueError
        If ``extra`` names a column the catalogue does not have.
    """
    known = set(column_names())
    unknown = [c for c in extra if c not in known]
    if unknown:
        raise ValueError(f"unknown catalogue column(s): {', '.join(unknown)}")
    out = list(LIGHTCURVE_COLUMNS) + list(QUALITY_COLUMNS)
    out += [c for c in extra if c not in out]
    return tuple(out)
