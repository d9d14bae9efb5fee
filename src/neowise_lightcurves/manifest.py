"""The plan of a run: which order-5 partitions each target's cone touches, how partitions group
into shards (one match job per year and shard, one light-curve job per shard), and the cache key
of each shard.

A shard is the whole sky (``sky``) or a NESTED HEALPix pixel of order ``shard_order`` to 5,
covering every touched order-5 partition under it. Shards adapt to the targets' density
(:func:`adaptive_tiles`): a tile whose partitions more than ``max_targets`` targets touch, or
that holds more than ``max_partitions`` touched partitions, is split into its children, down to
single partitions, so a dense field becomes many jobs instead of one huge one, and a sparse
sample a few jobs instead of one per pixel.

Light curves are built per **group** of targets: the whole sky or a NESTED pixel of order 0 to
5 holding the targets' own positions (their *home* partitions), split like shards where more
than ``max_targets`` targets lie in it (:func:`adaptive_tiles` again, over one row per target).
A group's job reads the match caches of every shard its targets' cones touch (a target near a
shard's edge has matches in the neighbour's cache too). Groups start as the whole sky, so a
sample of up to ``max_targets`` targets makes one light-curve job, not one per shard.

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
CACHE_VERSION = "2"

#: Rows per row group of the manifest's partition table (jobs filter it by shard).
ROW_GROUP_ROWS = 20_000

SHARD_FIELDS = ("shard", "digest", "n_targets", "n_partitions", "partitions", "allwise_digest")
GROUP_FIELDS = ("group", "n_targets", "reads")


#: The order of the tile that is the whole sky (shard and group name :data:`SKY`).
SKY_ORDER = -1
#: Name of the whole-sky shard or group.
SKY = "sky"


def shard_name(order: int, pixel: int) -> str:
    """Name of a shard: ``k{order}_{pixel}`` (NESTED), or :data:`SKY` for the whole sky."""
    if int(order) == SKY_ORDER:
        return SKY
    return f"k{int(order)}_{int(pixel)}"


def parse_shard(name: str) -> tuple[int, int]:
    """``"k2_113"`` -> ``(2, 113)``; ``"sky"`` -> ``(-1, 0)``."""
    if name == SKY:
        return SKY_ORDER, 0
    order, pixel = name[1:].split("_")
    return int(order), int(pixel)


def radius_tag(radius_arcsec: float) -> str:
    """Folder-name form of a radius: ``1.0`` -> ``"1"``, ``2.5`` -> ``"2.5"``."""
    return f"{float(radius_arcsec):g}"


def adaptive_tiles(
    target_index: np.ndarray,
    k5: np.ndarray,
    shard_order: int,
    max_targets: int,
    max_partitions: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The shard (order, NESTED pixel) of each (target, order-5 partition) row.

    Every row starts in its partition's parent at ``shard_order`` (-1: the whole sky, one
    tile); a tile that more than ``max_targets`` distinct targets touch, or that holds more
    than ``max_partitions`` touched partitions, is split into its children (the sky into its
    12 order-0 pixels, a pixel into its 4), order by order, down to single partitions (order 5,
    which are never split). Tiles never overlap, and together cover every touched partition. So
    a sample spread thinly over the sky makes few large jobs, and a dense field many small ones.

    Parameters
    ----------
    target_index : numpy.ndarray of int
        The target of each row (any integer code).
    k5 : numpy.ndarray of int
        The order-5 partition of each row.
    shard_order : int
        The coarsest tile order: -1 (the whole sky) to 5.
    max_targets : int
        Most targets a tile above order 5 may hold.
    max_partitions : int, optional
        Most touched partitions a tile above order 5 may hold (default: no bound).

    Returns
    -------
    order, pixel : numpy.ndarray of int64
        Each row's tile (order -1, pixel 0: the whole sky).
    """
    from . import sky

    if not SKY_ORDER <= shard_order <= sky.PARTITION_ORDER:
        raise ValueError(f"shard order must be -1..5, not {shard_order}")
    if max_targets < 1:
        raise ValueError(f"max_targets must be >= 1, not {max_targets}")
    if max_partitions is not None and max_partitions < 1:
        raise ValueError(f"max_partitions must be >= 1, not {max_partitions}")
    k5 = np.asarray(k5, dtype=np.int64)
    target_index = np.asarray(target_index, dtype=np.int64)
    order = np.full(len(k5), shard_order, dtype=np.int64)
    n = int(target_index.max()) + 1 if len(target_index) else 1
    for o in range(shard_order, sky.PARTITION_ORDER):
        at = np.flatnonzero(order == o)
        if len(at) == 0:
            break
        tile = _tile(k5[at], o)
        # distinct (tile, target) pairs, counted per tile; distinct partitions likewise
        tiles, counts = np.unique(np.unique(tile * n + target_index[at]) // n, return_counts=True)
        split = tiles[counts > max_targets]
        if max_partitions is not None:
            parts = np.unique(tile * (12 << 10) + k5[at]) // (12 << 10)
            wide, n_parts = np.unique(parts, return_counts=True)
            split = np.union1d(split, wide[n_parts > max_partitions])
        order[at[np.isin(tile, split)]] = o + 1
    pixel = np.where(
        order == SKY_ORDER, 0, k5 >> (2 * (sky.PARTITION_ORDER - np.maximum(order, 0)))
    )
    return order, pixel


def _tile(k5: np.ndarray, order: int) -> np.ndarray:
    """The tile at ``order`` (-1: the whole sky, tile 0) of each order-5 partition."""
    from . import sky

    if order == SKY_ORDER:
        return np.zeros(len(k5), dtype=np.int64)
    return sky.parent_pixel(k5, sky.PARTITION_ORDER, order)


def target_partitions(
    targets: pd.DataFrame,
    radius_arcsec: float,
    shard_order: int,
    max_shard_targets: int | None = None,
    years: list[str] | None = None,
    max_shard_partitions: int | None = None,
) -> pd.DataFrame:
    """One row per (target, touched order-5 partition):
    ``target_id, ra, dec, k5, shard, home, group``, then ``pmra, pmdec, pm_epoch`` when some
    target moves.

    A target with proper motion (``targets`` with :data:`~neowise_lightcurves.motion.COLUMNS`)
    has its cone widened by the most it moves from its reference epoch over the survey
    ``years`` (:func:`~neowise_lightcurves.motion.reach_arcsec`), so that every partition its
    moving cone touches is listed; ``years=None`` ignores proper motions.

    ``shard`` is the row's shard (:func:`adaptive_tiles` from ``shard_order``, split above
    ``max_shard_targets`` targets or ``max_shard_partitions`` partitions; None: no bound);
    ``home`` marks, for each target, the one row whose partition holds the target's own
    position; ``group`` is the target's group (the same on all its rows: :func:`adaptive_tiles`
    from the whole sky over the targets' home partitions, with the same bound on targets).
    Sorted by shard, partition and target.
    """
    import pandas as pd

    from . import motion, sky

    moving = False
    radius = radius_arcsec
    if motion.has_motion(targets) and years is not None:
        pmra, pmdec, epoch = motion.proper_motions(targets)
        moving = bool(((pmra != 0) | (pmdec != 0)).any())
    if moving:
        reach = motion.reach_arcsec(pmra, pmdec, epoch, motion.year_mjd_range(years))
        radius = float(radius_arcsec) + reach
    pixels = sky.cone_partitions(targets["ra"], targets["dec"], radius)
    counts = np.array([len(p) for p in pixels], dtype=np.int64)
    k5 = np.concatenate(pixels).astype(np.int64) if pixels else np.zeros(0, np.int64)
    idx = np.repeat(np.arange(len(targets)), counts)
    bound = np.iinfo(np.int64).max if max_shard_targets is None else int(max_shard_targets)
    order, pixel = adaptive_tiles(idx, k5, shard_order, bound, max_shard_partitions)
    home_k5 = np.asarray(
        sky.partition_of(targets["ra"].to_numpy(dtype=float), targets["dec"].to_numpy(dtype=float)),
        dtype=np.int64,
    )
    group_order, group_pixel = adaptive_tiles(np.arange(len(targets)), home_k5, SKY_ORDER, bound)
    home = k5 == home_k5[idx]
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
            "shard": pd.array(_names(order, pixel), dtype="string"),
            "home": home,
            "group": pd.array(_names(group_order, group_pixel)[idx], dtype="string"),
        }
    )
    if moving:
        for name, values in zip(motion.COLUMNS, (pmra, pmdec, targets["pm_epoch"]), strict=True):
            rows[name] = np.asarray(values, dtype=np.float64)[idx]
    return rows.sort_values(["shard", "k5", "target_id"], kind="stable", ignore_index=True)


def _names(order: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """``k{order}_{pixel}`` of each element, formatted once per distinct pair."""
    keys, inverse = np.unique(order * (12 << 20) + pixel, return_inverse=True)
    names = np.array([shard_name(k // (12 << 20), k % (12 << 20)) for k in keys], dtype=object)
    return names[inverse.ravel()]


def shard_digest(
    rows: pd.DataFrame, radius_arcsec: float, columns: tuple[str, ...], catalog_key: str
) -> str:
    """Cache key of one shard's match job: its (target, partition) rows (with a moving target's
    proper motion and epoch), the radius, the cached columns and the catalogue
    (``catalog_key``: its root, or the demo's parameters)."""
    from . import motion

    h = hashlib.sha256()
    head = f"v{CACHE_VERSION}|r={float(radius_arcsec)!r}|c={','.join(columns)}|{catalog_key}\n"
    h.update(head.encode())
    ordered = rows.sort_values(["k5", "target_id"], kind="stable")
    if motion.has_motion(ordered):
        pmra, pmdec, _ = motion.proper_motions(ordered)
        epoch = ordered["pm_epoch"].to_numpy(dtype=np.float64)
        moves = [
            f"\t{float(a)!r}\t{float(d)!r}\t{float(e)!r}" if (a != 0 or d != 0) else ""
            for a, d, e in zip(pmra, pmdec, epoch, strict=True)
        ]
    else:
        moves = [""] * len(ordered)
    for tid, ra, dec, k5, move in zip(
        ordered["target_id"], ordered["ra"], ordered["dec"], ordered["k5"], moves, strict=True
    ):
        h.update(f"{tid}\t{float(ra)!r}\t{float(dec)!r}\t{int(k5)}{move}\n".encode())
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
    against (``n_targets``), its partitions, and the cache key of its AllWISE MEP job
    (``allwise_digest``; ``""`` when the MEP is off)."""

    shard: str
    digest: str
    n_targets: int
    partitions: tuple[int, ...]
    allwise_digest: str = ""


@dataclass(frozen=True)
class Group:
    """One group of targets (one light-curve job): its targets and the shards whose match
    caches hold their detections (``reads``)."""

    group: str
    n_targets: int
    reads: tuple[str, ...]


def shards(
    rows: pd.DataFrame,
    radius_arcsec: float,
    columns: tuple[str, ...],
    catalog_key: str,
    allwise_key: str | None = None,
    allwise_columns: tuple[str, ...] | None = None,
) -> list[Shard]:
    """The shards of a :func:`target_partitions` table, with their digests: the NEOWISE
    catalogue's (``catalog_key``, ``columns``: the base ones every match job caches) and, with
    ``allwise_key`` (:func:`neowise_lightcurves.allwise.digest_key`), the AllWISE MEP's, from
    the same rows and ``allwise_columns`` (default ``columns``: a MEP job caches every column
    the light curves need at once)."""
    allwise_columns = columns if allwise_columns is None else allwise_columns
    out = []
    for name, group in rows.groupby("shard", sort=True):
        out.append(
            Shard(
                shard=str(name),
                digest=shard_digest(group, radius_arcsec, columns, catalog_key),
                n_targets=int(group["target_id"].nunique()),
                partitions=tuple(int(k) for k in np.unique(group["k5"])),
                allwise_digest=(
                    shard_digest(group, radius_arcsec, allwise_columns, allwise_key)
                    if allwise_key
                    else ""
                ),
            )
        )
    return out


def groups(rows: pd.DataFrame) -> list[Group]:
    """The groups of a :func:`target_partitions` table: their targets, and every shard their
    cones touch."""
    reads = rows[["group", "shard"]].drop_duplicates().groupby("group")["shard"]
    n = rows.loc[rows["home"]].groupby("group").size()
    return [
        Group(str(name), int(n[name]), tuple(sorted(map(str, shards)))) for name, shards in reads
    ]


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
                    s.allwise_digest,
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
                allwise_digest=r.get("allwise_digest") or "",
            )
            for r in csv.DictReader(fh, delimiter="\t")
        ]


def write_groups(path: str | os.PathLike, items: list[Group]) -> None:
    """Write the group table as TSV (read back by :func:`read_groups` at DAG time)."""
    from .atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(GROUP_FIELDS)
        for g in items:
            writer.writerow([g.group, g.n_targets, ",".join(g.reads)])


def read_groups(path: str | os.PathLike) -> list[Group]:
    """Read a group table written by :func:`write_groups` (standard library only)."""
    with open(path, newline="") as fh:
        return [
            Group(r["group"], int(r["n_targets"]), tuple(x for x in r["reads"].split(",") if x))
            for r in csv.DictReader(fh, delimiter="\t")
        ]


#: The plan's line for a run in one job (config ``one_job``).
ONE_JOB_PLAN_LINE = (
    "run in one job:          yes (one_job): its matches and light curves are the jobs above"
)


def plan_text(
    items: list[Shard],
    groups: list[Group],
    n_targets: int,
    years: list[str],
    shard_order: int,
    reads_text: str | None = None,
    one_job: bool = False,
) -> str:
    """What a run will do, before it does it: targets, partitions, jobs per year (in a run in
    one job, ``one_job``, the matches and light-curve groups that job does, said so on a line
    of its own) and, when given, the estimate of what it will read
    (:func:`~neowise_lightcurves.estimates.estimate_text`)."""
    partitions = {p for s in items for p in s.partitions}
    orders = sorted({parse_shard(s.shard)[0] for s in items}) or [shard_order]
    span = f"{orders[0]}-{orders[-1]}" if len(orders) > 1 else f"{orders[0]}"
    span = span.replace(str(SKY_ORDER), "sky", 1) if orders[0] == SKY_ORDER else span
    lines = [
        f"targets:                 {n_targets}",
        f"order-5 partitions:      {len(partitions)}",
        f"{f'shards (order {span}):':<25}{len(items)}",
        f"match jobs:              {len(items) * len(years)} "
        f"({len(items)} per year x {len(years)} years)",
        f"light-curve jobs:        {len(groups)} (one per group of targets)",
        f"most targets in a shard: {max((s.n_targets for s in items), default=0)}",
        f"most targets in a group: {max((g.n_targets for g in groups), default=0)}",
    ]
    if one_job:
        lines.append(ONE_JOB_PLAN_LINE)
    text = "\n".join(lines) + "\n"
    return text if reads_text is None else text + "\n" + reads_text
