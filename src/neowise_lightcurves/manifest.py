"""The plan of a run: which order-5 partitions each target's cone touches, how partitions group
into shards (one match job per year and shard), and the cache key of each shard.

A shard is a NESTED HEALPix pixel at ``shard_order`` (<= 5); it covers every touched order-5
partition under it. Its cache key (a digest) changes exactly when its target set, the radius or
the cached columns change, so a changed target list reruns only the shards it touches.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where it is used: the Snakefile imports this module
    import pandas as pd

#: Bump when the content of match cache files changes meaning.
CACHE_VERSION = "1"

SHARD_FIELDS = ("shard", "digest", "n_targets", "n_partitions", "partitions")


def shard_name(order: int, pixel: int) -> str:
    """Name of a shard: ``k{order}_{pixel}`` (NESTED)."""
    return f"k{int(order)}_{int(pixel)}"


def parse_shard(name: str) -> tuple[int, int]:
    """``"k2_113"`` -> ``(2, 113)``."""
    order, pixel = name[1:].split("_")
    return int(order), int(pixel)


def radius_tag(radius_arcsec: float) -> str:
    """Folder-name form of a radius: ``1.0`` -> ``"1"``, ``2.5`` -> ``"2.5"``."""
    return f"{float(radius_arcsec):g}"


def target_partitions(
    targets: pd.DataFrame, radius_arcsec: float, shard_order: int
) -> pd.DataFrame:
    """One row per (target, touched order-5 partition): ``target_id, ra, dec, k5, shard``."""
    import pandas as pd

    from . import sky

    if not 0 <= shard_order <= 5:
        raise ValueError(f"shard order must be 0..5, not {shard_order}")
    pixels = sky.cone_partitions(targets["ra"], targets["dec"], radius_arcsec)
    counts = np.array([len(p) for p in pixels])
    k5 = np.concatenate(pixels) if pixels else np.zeros(0, np.int64)
    idx = np.repeat(np.arange(len(targets)), counts)
    rows = pd.DataFrame(
        {
            "target_id": targets["target_id"].to_numpy()[idx],
            "ra": targets["ra"].to_numpy()[idx],
            "dec": targets["dec"].to_numpy()[idx],
            "k5": k5.astype(np.int64),
        }
    )
    parent = sky.parent_pixel(rows["k5"].to_numpy(), sky.PARTITION_ORDER, shard_order)
    rows["shard"] = [shard_name(shard_order, p) for p in parent]
    rows["target_id"] = rows["target_id"].astype("string")
    return rows.sort_values(["shard", "k5", "target_id"], kind="stable", ignore_index=True)


def shard_digest(
    rows: pd.DataFrame, radius_arcsec: float, columns: tuple[str, ...], catalog_key: str
) -> str:
    """Cache key of one shard's match job: its (target, partition) rows, the radius, the cached
    columns and the catalogue (``catalog_key``: its root, or the demo's parameters)."""
    h = hashlib.sha256()
    head = f"v{CACHE_VERSION}|r={float(radius_arcsec)!r}|c={','.join(columns)}|{catalog_key}\n"
    h.update(head.encode())
    ordered = rows.sort_values(["k5", "target_id"], kind="stable")
    for tid, ra, dec, k5 in zip(
        ordered["target_id"], ordered["ra"], ordered["dec"], ordered["k5"], strict=True
    ):
        h.update(f"{tid}\t{float(ra)!r}\t{float(dec)!r}\t{int(k5)}\n".encode())
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class Shard:
    """One shard of the manifest."""

    shard: str
    digest: str
    n_targets: int
    partitions: tuple[int, ...]


def shards(
    rows: pd.DataFrame, radius_arcsec: float, columns: tuple[str, ...], catalog_key: str
) -> list[Shard]:
    """The shards of a :func:`target_partitions` table, with their digests."""
    out = []
    for name, group in rows.groupby("shard", sort=True):
        out.append(
            Shard(
                shard=str(name),
                digest=shard_digest(group, radius_arcsec, columns, catalog_key),
                n_targets=int(group["target_id"].nunique()),
                partitions=tuple(int(k) for k in np.unique(group["k5"])),
            )
        )
    return out


def write_shards(path: str | os.PathLike, items: list[Shard]) -> None:
    """Write the shard table as TSV (read back by :func:`read_shards`, cheaply, at DAG time)."""
    from .atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(SHARD_FIELDS)
        for s in items:
            writer.writerow(
                [
                    s.shard,
                    s.digest,
                    s.n_targets,
                    len(s.partitions),
                    ",".join(map(str, s.partitions)),
                ]
            )


def read_shards(path: str | os.PathLike) -> list[Shard]:
    """Read a shard table written by :func:`write_shards` (standard library only: no pandas)."""
    with open(path, newline="") as fh:
        return [
            Shard(
                shard=r["shard"],
                digest=r["digest"],
                n_targets=int(r["n_targets"]),
                partitions=tuple(int(p) for p in r["partitions"].split(",") if p),
            )
            for r in csv.DictReader(fh, delimiter="\t")
        ]


def plan_text(
    items: list[Shard],
    n_targets: int,
    years: list[str],
    shard_order: int,
    file_sizes: dict[str, tuple[int, int, int]] | None = None,
) -> str:
    """What a run will do, before it does it: targets, partitions, jobs per year and, where the
    catalogue is local, ``file_sizes[year] = (partitions with files, files, bytes)``."""
    partitions = {p for s in items for p in s.partitions}
    lines = [
        f"targets:                 {n_targets}",
        f"order-5 partitions:      {len(partitions)}",
        f"shards (order {shard_order}):        {len(items)}",
        f"match jobs:              {len(items) * len(years)} "
        f"({len(items)} per year x {len(years)} years)",
    ]
    if file_sizes is not None:
        lines.append("")
        lines.append(f"{'year':<10} {'partitions':>10} {'files':>7} {'bytes':>14}")
        total = 0
        for year in years:
            with_files, n_files, size = file_sizes[year]
            total += size
            lines.append(f"{year:<10} {with_files:>10} {n_files:>7} {size:>14,}")
        lines.append(f"{'total':<10} {'':>10} {'':>7} {total:>14,}")
        lines.append("(bytes: the partitions' whole files; a run reads only the columns and")
        lines.append(" row groups it needs)")
    return "\n".join(lines) + "\n"
