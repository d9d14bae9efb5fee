"""The plan of a run: which order-5 partitions each target's cone touches, how partitions group
into shards (one match job per year and shard, one light-curve job per shard), and the cache key
of each shard.

A shard is a NESTED HEALPix pixel of order ``shard_order`` to 5 covering every touched order-5
partition under it. Shards adapt to the targets' density (:func:`adaptive_tiles`): a pixel whose
partitions more than ``max_targets`` targets touch is split into its four children, down to single
partitions, so a dense field becomes many jobs instead of one huge one.

Each target has one **home** shard, the one holding the partition of its own position; its light
curve is built there, from the match caches of every shard its cone touches (a target near a
shard's edge has matches in the neighbour's cache too).

A shard's cache key (a digest) changes exactly when its (target, partition) rows, the radius or the
cached columns change, so a changed target list reruns only the shards it touches.
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

#: Rows per row group of the manifest's partition table (jobs filter it by shard).
ROW_GROUP_ROWS = 20_000

SHARD_FIELDS = ("shard", "digest", "n_targets", "n_home", "reads", "n_partitions", "partitions")


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


def adaptive_tiles(
    target_index: np.ndarray, k5: np.ndarray, shard_order: int, max_targets: int
) -> tuple[np.ndarray, np.ndarray]:
    """The shard (order, NESTED pixel) of each (target, order-5 partition) row.

    Every row starts in its partition's parent at ``shard_order``; a pixel that more than
    ``max_targets`` distinct targets touch is split into its children, order by order, down to
    single partitions (order 5, which are never split). Shards never overlap, and together cover
    every touched partition.

    Parameters
    ----------
    target_index : numpy.ndarray of int
        The target of each row (any integer code).
    k5 : numpy.ndarray of int
        The order-5 partition of each row.
    shard_order : int
        The coarsest shard order (0-5).
    max_targets : int
        Most targets a shard above order 5 may hold.

    Returns
    -------
    order, pixel : numpy.ndarray of int64
        Each row's shard.
    """
    from . import sky

    if not 0 <= shard_order <= sky.PARTITION_ORDER:
        raise ValueError(f"shard order must be 0..5, not {shard_order}")
    if max_targets < 1:
        raise ValueError(f"max_targets must be >= 1, not {max_targets}")
    k5 = np.asarray(k5, dtype=np.int64)
    target_index = np.asarray(target_index, dtype=np.int64)
    order = np.full(len(k5), shard_order, dtype=np.int64)
    n = int(target_index.max()) + 1 if len(target_index) else 1
    for o in range(shard_order, sky.PARTITION_ORDER):
        at = np.flatnonzero(order == o)
        if len(at) == 0:
            break
        tile = sky.parent_pixel(k5[at], sky.PARTITION_ORDER, o)
        # distinct (tile, target) pairs, counted per tile
        tiles, counts = np.unique(np.unique(tile * n + target_index[at]) // n, return_counts=True)
        order[at[np.isin(tile, tiles[counts > max_targets])]] = o + 1
    return order, k5 >> (2 * (sky.PARTITION_ORDER - order))


def target_partitions(
    targets: pd.DataFrame,
    radius_arcsec: float,
    shard_order: int,
    max_shard_targets: int | None = None,
) -> pd.DataFrame:
    """One row per (target, touched order-5 partition): ``target_id, ra, dec, k5, shard, home``.

    ``shard`` is the row's shard (:func:`adaptive_tiles`; ``max_shard_targets=None``: no
    splitting, every shard at ``shard_order``); ``home`` marks, for each target, the one row
    whose partition holds the target's own position. Sorted by shard, partition and target.
    """
    import pandas as pd

    from . import sky

    pixels = sky.cone_partitions(targets["ra"], targets["dec"], radius_arcsec)
    counts = np.array([len(p) for p in pixels], dtype=np.int64)
    k5 = np.concatenate(pixels).astype(np.int64) if pixels else np.zeros(0, np.int64)
    idx = np.repeat(np.arange(len(targets)), counts)
    bound = np.iinfo(np.int64).max if max_shard_targets is None else int(max_shard_targets)
    order, pixel = adaptive_tiles(idx, k5, shard_order, bound)
    # shard names from the few distinct (order, pixel) pairs, not once per row
    keys, inverse = np.unique(order * (12 << 20) + pixel, return_inverse=True)
    names = np.array([shard_name(k // (12 << 20), k % (12 << 20)) for k in keys], dtype=object)
    home_k5 = sky.partition_of(
        targets["ra"].to_numpy(dtype=float), targets["dec"].to_numpy(dtype=float)
    )
    home = k5 == np.asarray(home_k5, dtype=np.int64)[idx]
    n_homes = np.bincount(idx[home], minlength=len(targets))
    if (n_homes != 1).any():  # the partition of a cone's centre always touches the cone
        bad = targets["target_id"].iloc[np.flatnonzero(n_homes != 1)[:5]].tolist()
        raise RuntimeError(f"no home partition among the cone's partitions for {bad}")
    rows = pd.DataFrame(
        {
            "target_id": pd.array(targets["target_id"].to_numpy()[idx], dtype="string"),
            "ra": targets["ra"].to_numpy()[idx],
            "dec": targets["dec"].to_numpy()[idx],
            "k5": k5,
            "shard": pd.array(names[inverse.ravel()], dtype="string"),
            "home": home,
        }
    )
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


def check_digest(
    rows: pd.DataFrame,
    shard: str,
    digest: str,
    radius_arcsec: float,
    columns: tuple[str, ...],
    catalog_key: str,
) -> None:
    """Raise if a shard's rows (from the manifest now) do not give the cache key ``digest`` a
    job was started for: the manifest changed under the job."""
    now = shard_digest(rows, radius_arcsec, columns, catalog_key)
    if now != digest:
        raise RuntimeError(
            f"shard {shard}: the manifest's targets give cache key {now}, not {digest}; "
            "the manifest changed under this job: rerun the workflow"
        )


@dataclass(frozen=True)
class Shard:
    """One shard of the manifest: its cache key, the targets its partitions are matched
    against (``n_targets``), the targets whose light curves it builds (``n_home``), the shards
    whose match caches those need (``reads``: itself and neighbours) and its partitions."""

    shard: str
    digest: str
    n_targets: int
    partitions: tuple[int, ...]
    n_home: int = 0
    reads: tuple[str, ...] = ()


def shards(
    rows: pd.DataFrame, radius_arcsec: float, columns: tuple[str, ...], catalog_key: str
) -> list[Shard]:
    """The shards of a :func:`target_partitions` table, with their digests."""
    import pandas as pd

    home_of = rows.loc[rows["home"]].set_index("target_id")["shard"]
    # every shard that a home shard's targets touch: the caches its light curves are built from
    pairs = pd.DataFrame(
        {"home": rows["target_id"].map(home_of), "shard": rows["shard"]}
    ).drop_duplicates()
    reads = pairs.groupby("home")["shard"].agg(lambda s: tuple(sorted(s)))
    n_home = home_of.value_counts()
    out = []
    for name, group in rows.groupby("shard", sort=True):
        out.append(
            Shard(
                shard=str(name),
                digest=shard_digest(group, radius_arcsec, columns, catalog_key),
                n_targets=int(group["target_id"].nunique()),
                partitions=tuple(int(k) for k in np.unique(group["k5"])),
                n_home=int(n_home.get(name, 0)),
                reads=tuple(reads.get(name, ())),
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
                    s.n_home,
                    ",".join(s.reads),
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
                n_home=int(r["n_home"]),
                reads=tuple(x for x in r["reads"].split(",") if x),
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
    orders = sorted({parse_shard(s.shard)[0] for s in items})
    span = f"{orders[0]}-{orders[-1]}" if len(orders) > 1 else f"{shard_order}"
    homes = sum(1 for s in items if s.n_home)
    lines = [
        f"targets:                 {n_targets}",
        f"order-5 partitions:      {len(partitions)}",
        f"{f'shards (order {span}):':<25}{len(items)}",
        f"match jobs:              {len(items) * len(years)} "
        f"({len(items)} per year x {len(years)} years)",
        f"light-curve jobs:        {homes} (one per shard holding a target's position)",
        f"most targets in a shard: {max((s.n_targets for s in items), default=0)}",
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
