"""What a run will read, estimated before it runs, from listings and footers alone (no data):
for ``snakemake plan``, on a local copy or on S3.

Per year, every partition the targets' cones touch is listed (the listings the run makes,
:func:`~neowise_lightcurves.catalog.listing_units`) and
the footers of a sample of the listed files are read. For each sampled file the cost of its
match is computed as the run would pay it (:mod:`neowise_lightcurves.reads`): its footer, the
``ra``/``dec`` of the row groups whose statistics do not exclude every cone of that partition's
targets, and — which depends on the data — the other columns of between none and all of those
row groups (a file read in one pass, :func:`~neowise_lightcurves.matching.passes_for`, costs
every needed column of them, low and high alike). The sample's means per file, times the files
listed, give the year's estimate: ``low`` (no row group holds a match) and ``high`` (every row
group read for its positions holds one). Wall time follows from stated assumptions
(:func:`wall_seconds`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from . import parquet, reads
from .catalog import Catalog, listing_units
from .matching import (
    BATCH_ROWS,
    POSITION_BATCH_ROWS,
    Cones,
    candidate_row_groups,
    passes_for,
    row_group_batches,
)
from .motion import Motion
from .sky import k0_of

#: Files whose footers are read per year, at most.
SAMPLE_FILES = 12


def file_cost(
    meta: pq.FileMetaData,
    file_size: int,
    targets: pd.DataFrame,
    radius_arcsec: float,
    columns,
    year: str | None = None,
) -> tuple[reads.ReadRecord, reads.ReadRecord]:
    """(low, high) cost of matching ``targets`` in one file of ``year`` (moving targets' cones
    widened for it) whose footer is ``meta``."""
    moves = Motion.of(targets, [year]) if year is not None else None
    keep = candidate_row_groups(
        meta, Cones(targets["ra"], targets["dec"], radius_arcsec, moves).bounds
    )
    positions = parquet.column_indices(meta, ("ra", "dec"))
    others = parquet.column_indices(meta, [c for c in columns if c not in ("ra", "dec")])
    low = reads.open_cost(meta, file_size, len(keep))
    sizes = [meta.row_group(g).num_rows for g in keep]
    if keep and passes_for(meta, keep) == 1:  # every needed column of them, at once
        for sub in row_group_batches(sizes, BATCH_ROWS):
            groups = [keep[i] for i in sub]
            r, b = parquet.read_cost(meta, groups, positions + others, file_size)
            low.add(requests=r, bytes=b, column_bytes=b, row_groups_second_pass=len(groups))
        low.add(files_one_pass=1)
        return low, reads.ReadRecord(**low.to_dict())
    high = reads.ReadRecord(**low.to_dict())
    for batch in row_group_batches(sizes, POSITION_BATCH_ROWS):
        groups = [keep[i] for i in batch]
        r, b = parquet.read_cost(meta, groups, positions, file_size)
        for rec in (low, high):
            rec.add(requests=r, bytes=b, position_bytes=b)
        # high: every candidate row group holds a match (match_file's second pass)
        for sub in row_group_batches([sizes[i] for i in batch], BATCH_ROWS):
            second = [groups[i] for i in sub]
            r, b = parquet.read_cost(meta, second, others, file_size)
            high.add(requests=r, bytes=b, column_bytes=b, row_groups_second_pass=len(second))
    return low, high


def estimate_year(
    catalog: Catalog,
    year: str,
    rows: pd.DataFrame,
    radius_arcsec: float,
    columns,
    n_shards: int,
    sample_files: int = SAMPLE_FILES,
    threads: int = 16,
) -> dict:
    """One year's estimate for the manifest's (target, partition) ``rows`` (with their
    ``shard`` where given: each shard's match job makes its own listings).

    Returns a dict: ``partitions`` (listed), ``with_files``, ``files``, ``file_bytes`` (their
    whole size), ``sampled`` (files whose footers were read), and ``low``/``high``: the
    :class:`~neowise_lightcurves.reads.ReadRecord` counts of the whole year (the sample's
    means times ``files``, plus the listings and the ``n_shards`` jobs' year lookups)."""
    by_k5 = {int(k): g for k, g in rows.groupby("k5", sort=True)}
    if not catalog.year_exists(year):  # the match jobs will fail and say so
        zeros = reads.ReadRecord().to_dict()
        return dict(
            partitions=len(by_k5),
            with_files=0,
            files=0,
            file_bytes=0,
            sampled=0,
            low=zeros,
            high=dict(zeros),
            missing=True,
        )
    units = listing_units(by_k5)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        found = list(pool.map(lambda unit: catalog.list_partitions(year, unit), units))
    listed = {k5: files for part, _ in found for k5, files in part.items()}
    # the match jobs' listings: each shard's job lists its own partitions (listing_units)
    pages = {int(k0_of(u[0])): n for u, (_, n) in zip(units, found, strict=True) if len(u) > 1}
    shards = rows.groupby("shard", sort=False)["k5"] if "shard" in rows else [(None, rows["k5"])]
    job_units = [u for _, k5s in shards for u in listing_units(k5s)]
    files = [(k, info) for k, infos in listed.items() for info in infos]
    pick = np.unique(np.linspace(0, len(files) - 1, min(sample_files, len(files))).astype(int))
    sample = [files[i] for i in pick] if files else []

    def cost(item):
        k5, info = item
        fh, meta = parquet.open_parquet(catalog.filesystem, info.path, info.size)
        fh.close()
        return file_cost(meta, info.size, by_k5[k5], radius_arcsec, columns, year)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        costs = list(pool.map(cost, sample))
    out = {
        "partitions": len(by_k5),
        "with_files": sum(1 for v in listed.values() if v),
        "files": len(files),
        "file_bytes": sum(info.size for _, info in files),
        "sampled": len(sample),
    }
    scale = len(files) / len(sample) if sample else 0.0
    fixed = {
        "listings": len(job_units),
        "requests": sum(pages[int(k0_of(u[0]))] if len(u) > 1 else 1 for u in job_units)
        + n_shards * reads.YEAR_LOOKUP_REQUESTS,
    }
    for i, name in enumerate(("low", "high")):
        summed = reads.ReadRecord()
        for pair in costs:
            summed.add(**pair[i].to_dict())
        out[name] = {
            k: int(round(v * scale)) + fixed.get(k, 0) for k, v in summed.to_dict().items()
        }
    return out


def wall_seconds(
    requests: int, nbytes: int, latency_s: float, connections: int, bytes_per_s: float
) -> float:
    """Time to make ``requests`` taking ``latency_s`` each and move ``nbytes`` at
    ``bytes_per_s`` per connection, over ``connections`` at once (no CPU time counted)."""
    return (requests * latency_s + nbytes / bytes_per_s) / max(1, connections)


#: Assumed first-byte latency of one request (s): in IRSA's AWS region, and from elsewhere.
LATENCIES_S = (0.02, 0.08)
#: Assumed throughput of one connection (bytes/s), as S3 gives.
CONNECTION_BYTES_PER_S = 100e6


def estimate_text(per_year: dict[str, dict], connections: int) -> str:
    """The plan's table of :func:`estimate_year` results, and the read time they imply under
    the stated assumptions (:data:`LATENCIES_S`, :data:`CONNECTION_BYTES_PER_S`)."""
    lines = [
        f"{'year':<9} {'partitions':>10} {'files':>6} {'file bytes':>15} {'sampled':>7} "
        f"{'requests (low-high)':>21} {'bytes read (low-high)':>29}"
    ]
    totals = {"files": 0, "file_bytes": 0, "low": {}, "high": {}}
    for year, e in per_year.items():
        lo, hi = e["low"], e["high"]
        if e.get("missing"):
            lines.append(f"{year:<9} {e['partitions']:>10}  (no dataset for this year)")
            continue
        lines.append(
            f"{year:<9} {e['partitions']:>10} {e['files']:>6} {e['file_bytes']:>15,} "
            f"{e['sampled']:>7} {lo['requests']:>10,}-{hi['requests']:<10,} "
            f"{lo['bytes']:>14,}-{hi['bytes']:<14,}"
        )
        totals["files"] += e["files"]
        totals["file_bytes"] += e["file_bytes"]
        for name in ("low", "high"):
            for k, v in e[name].items():
                totals[name][k] = totals[name].get(k, 0) + v
    lo, hi = totals["low"], totals["high"]
    lines.append(
        f"{'total':<9} {'':>10} {totals['files']:>6} {totals['file_bytes']:>15,} {'':>7} "
        f"{lo.get('requests', 0):>10,}-{hi.get('requests', 0):<10,} "
        f"{lo.get('bytes', 0):>14,}-{hi.get('bytes', 0):<14,}"
    )
    floor = lo.get("floor_bytes", 0)
    lines.append(f"floor (footers, ra and dec of every row group of those files): {floor:,} bytes")
    for latency in LATENCIES_S:
        a = wall_seconds(
            lo.get("requests", 0), lo.get("bytes", 0), latency, connections, CONNECTION_BYTES_PER_S
        )
        b = wall_seconds(
            hi.get("requests", 0), hi.get("bytes", 0), latency, connections, CONNECTION_BYTES_PER_S
        )
        lines.append(f"reading at {latency * 1000:.0f} ms a request: {a:,.0f}-{b:,.0f} s")
    lines += [
        "(estimated from listings and the footers of the sampled files; low: no row group",
        " holds a match, high: every row group read for its positions does; time: requests",
        f" x latency + bytes / {CONNECTION_BYTES_PER_S / 1e6:.0f} MB/s, over {connections} "
        "connections at once",
        " (cores x the requests a match job keeps in flight), CPU not counted)",
    ]
    return "\n".join(lines) + "\n"
