"""What the match jobs read from the catalogue: listings, files, row groups read and skipped,
bytes and requests, per job and summed over a run.

A match job keeps its :class:`ReadRecord` in its cache file's Parquet metadata (key
:data:`METADATA_KEY`), so the record travels with the file it describes; the ``costs`` rule
sums the records of every cache file a run uses (:func:`run_reads`).

Bytes and requests are those a match job asks the storage for, computed from the files'
footers: the tail read that finds the footer (:func:`read_footer`; a second read when the
footer is larger), then the column chunks of the row groups and columns read, nearby ranges
merged (:func:`coalesce`, as :mod:`neowise_lightcurves.ranged` fetches them), plus one size
lookup per file opened, two lookups for the year's folder and the listings (one request per
partition, or a page of 1,000 keys per order-0 pixel's folder listed whole,
:func:`~neowise_lightcurves.catalog.listing_units`). On
an object store each is one HTTP request (``tests/test_s3.py`` checks them against a counting
proxy); on a local disk they are reads.
The *floor* is what reading only ``ra`` and ``dec`` of every row group of the same files costs:
the least any method that must look at every position pays.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading

import pyarrow as pa
import pyarrow.parquet as pq

from .parquet import column_indices, footer_cost, read_cost

#: The Parquet metadata key of a cache file's record.
METADATA_KEY = b"neowise_lightcurves.reads"
#: Requests that check a year's folder exists (a key lookup, then a listing).
YEAR_LOOKUP_REQUESTS = 2


@dataclasses.dataclass
class ReadRecord:
    """Counts of what was read (sums over files; bytes in bytes)."""

    #: listings made: of a partition's folder, or of an order-0 pixel's (catalog.listing_units)
    listings: int = 0
    #: data files opened
    files: int = 0
    #: row groups in the opened files
    row_groups: int = 0
    #: row groups skipped unread: their ``ra``/``dec`` statistics exclude every cone
    row_groups_skipped: int = 0
    #: row groups whose other columns were read (they hold a match, or were read in one pass)
    row_groups_second_pass: int = 0
    #: files whose candidate row groups were read in one pass (every column at once)
    files_one_pass: int = 0
    #: requests to the storage (see the module's description)
    requests: int = 0
    #: bytes asked for: footers, positions, other columns
    bytes: int = 0
    footer_bytes: int = 0
    position_bytes: int = 0
    column_bytes: int = 0
    #: footers plus ``ra`` and ``dec`` of every row group of the opened files
    floor_bytes: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        """Add to the counts (thread-safe)."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + int(value))

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> ReadRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: int(v) for k, v in values.items() if k in names})


def open_cost(meta: pq.FileMetaData, file_size: int, row_groups_read: int) -> ReadRecord:
    """What opening one file costs (:func:`~neowise_lightcurves.parquet.footer_cost`), with its
    row groups, those skipped (all but ``row_groups_read``) and its floor; its column reads are
    added as they happen."""
    requests, nbytes = footer_cost(file_size, meta.serialized_size)
    positions = column_indices(meta, ("ra", "dec"))
    floor = read_cost(meta, list(range(meta.num_row_groups)), positions, file_size)[1]
    return ReadRecord(
        files=1,
        row_groups=meta.num_row_groups,
        row_groups_skipped=meta.num_row_groups - row_groups_read,
        requests=requests,
        bytes=nbytes,
        footer_bytes=nbytes,
        floor_bytes=nbytes + floor,
    )


def write_record(table: pa.Table, record: ReadRecord) -> pa.Table:
    """``table`` with ``record`` in its schema metadata."""
    metadata = dict(table.schema.metadata or {})
    metadata[METADATA_KEY] = json.dumps(record.to_dict()).encode()
    return table.replace_schema_metadata(metadata)


def read_record(path: str | os.PathLike) -> ReadRecord | None:
    """The record in a cache file's metadata (None for a file written without one)."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(METADATA_KEY)
    return None if raw is None else ReadRecord.from_dict(json.loads(raw))


def run_reads(paths_by_year: dict[str, list[str]]) -> tuple[dict, dict[str, dict]]:
    """Sum the records of a run's cache files, per year and in all.

    Returns
    -------
    total : dict
        :class:`ReadRecord`'s counts summed, plus ``jobs`` (cache files with a record),
        ``jobs_without_record`` and ``amplification`` (bytes over the floor's bytes).
    per_year : dict
        The same per year.
    """

    def summed(records: list[ReadRecord | None]) -> dict:
        out = ReadRecord()
        for record in records:
            if record is not None:
                out.add(**record.to_dict())
        values = out.to_dict()
        values["jobs"] = sum(r is not None for r in records)
        values["jobs_without_record"] = sum(r is None for r in records)
        values["amplification"] = round(out.bytes / out.floor_bytes, 3) if out.floor_bytes else None
        return values

    records = {year: [read_record(p) for p in paths] for year, paths in paths_by_year.items()}
    per_year = {year: summed(found) for year, found in records.items()}
    total = summed([r for found in records.values() for r in found])
    return total, per_year


def write_run_reads(
    total: dict,
    per_year: dict[str, dict],
    json_path: str | os.PathLike,
    tsv_path: str | os.PathLike,
) -> None:
    """Write :func:`run_reads`'s sums: ``{"total": ..., "per_year": ...}`` as JSON, and a table
    of one row per year and one for ``all``."""
    import pandas as pd

    from .atomic import atomic_path

    with atomic_path(json_path) as tmp:
        with open(tmp, "w") as fh:
            json.dump({"total": total, "per_year": per_year}, fh, indent=1)
    rows = pd.DataFrame([{"year": y, **v} for y, v in {**per_year, "all": total}.items()])
    with atomic_path(tsv_path) as tmp:
        rows.to_csv(tmp, sep="\t", index=False)
