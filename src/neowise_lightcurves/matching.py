"""Exact cone matching of targets against catalogue partitions.

Every detection whose great-circle distance to a target is within the radius is matched, and
nothing else: candidate pairs come from HEALPix pixels that cover the cones, and distances are
computed between unit vectors, so the poles, the RA 0/360 seam and partition edges need no
special case. Targets closer together than the radius each get their
own matches, and so do two ids at the same position.

Reading a partition file costs what the answer needs, in few round trips: one for the footer,
row groups whose ``ra``/``dec`` statistics exclude every cone skipped, ``ra``/``dec`` of the
others read at once, then the other columns of only the row groups that hold a match (each
read's byte ranges fetched concurrently, :mod:`neowise_lightcurves.ranged`).
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, ThreadPoolExecutor, wait

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import columns as cols
from . import parquet, ranged, reads, sky
from .catalog import Catalog, CatalogError, explain, listing_units
from .motion import Motion, MotionRangeError
from .reads import ReadRecord

log = logging.getLogger(__name__)

#: Slack, in degrees, on row-group pruning by statistics (guards float rounding only).
_PRUNE_SLACK_DEG = 1e-9
#: Relative (and arcsec) slack on the pixel cover of the cones; the exact test comes after.
_COVER_SLACK = 1e-6
#: Most rows whose positions :func:`match_file` reads at once (16 bytes a row decoded: a file
#: of ~1.5 M rows is one read, whose column chunks are fetched concurrently).
POSITION_BATCH_ROWS = 4_000_000
#: Most rows :func:`match_file` decodes in one read of the other columns (~50 MB).
BATCH_ROWS = 500_000
#: Reads of other columns one file has in flight at once (each a batch of :data:`BATCH_ROWS`).
CONCURRENT_BATCHES = 4
#: Rows per row group of a match cache file (sorted by target: a light-curve job that reads a
#: range of targets decodes only the row groups that hold them).
CACHE_ROW_GROUP_ROWS = 50_000


class Cones:
    """Targets' cones, set up once to be matched against many batches of detections.

    Each cone is covered by the HEALPix pixels that touch it (hpgeom's inclusive query, at
    :func:`~neowise_lightcurves.sky.cover_order`: pixels about one radius across, so a cone
    touches about ten). A detection can only match the targets whose cover holds its pixel, so
    the candidate pairs come from one ``searchsorted`` of the detections' pixels into the
    sorted (pixel, target) list; every candidate pair is then tested on its exact great-circle
    distance. No loop over detections or targets, and no pair is missed: the cover of a cone
    holds every point of it. A detection's pixel is computed only if it lies in a cell of a
    coarse RA/Dec grid that some cone's box touches (:class:`BoxGrid`), which is cheaper.

    Parameters
    ----------
    ra, dec : array_like
        Target positions in degrees.
    radius_arcsec : float
        Cone radius in arcsec.
    motion : Motion, optional
        The targets' proper motions over the detections' year
        (:class:`~neowise_lightcurves.motion.Motion`). A moving target's cone is then found in
        two steps: the coarse one (:meth:`candidates`) with the cone widened by what the target
        moves over the year (its ``reach``), the exact one (:meth:`exact`) on the distance from
        the target's position at each detection's own time.
    """

    def __init__(
        self, ra: np.ndarray, dec: np.ndarray, radius_arcsec: float, motion: Motion | None = None
    ):
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        self.radius_arcsec = float(radius_arcsec)
        self.size = len(ra)
        self.motion = motion
        self.ra, self.dec = ra, dec
        # the coarse cones: about each target's position, or a moving target's position at the
        # middle of the year, with its radius plus what the target moves within the year
        if motion is None:
            cra, cdec, self.coarse_arcsec = ra, dec, self.radius_arcsec
        else:
            cra, cdec = motion.centre_ra, motion.centre_dec
            self.coarse_arcsec = self.radius_arcsec + motion.reach
        #: row-group pruning boxes (:func:`cone_bounds`)
        self.bounds = cone_bounds(cra, cdec, self.coarse_arcsec)
        self.order = sky.cover_order(self.radius_arcsec)
        # the cover is a superset already; the margin only guards float rounding at pixel edges
        margin = self.coarse_arcsec * (1.0 + _COVER_SLACK) + _COVER_SLACK
        covers = sky.cone_partitions(cra, cdec, margin, order=self.order)
        pixels = np.concatenate(covers) if covers else np.zeros(0, np.int64)
        owners = np.repeat(np.arange(self.size), [len(c) for c in covers])
        by_pixel = np.argsort(pixels, kind="stable")
        #: (pixel, target) pairs of every cone's cover, sorted by pixel
        self.cover_pixels = pixels[by_pixel].astype(np.int64)
        self.cover_targets = owners[by_pixel].astype(np.int64)
        #: the pixels of any cover, sorted and unique
        self.pixels = np.unique(self.cover_pixels)
        #: the targets' unit vectors at their epochs (the exact step), and the coarse cones'
        self.vectors = sky.unit_vectors(ra, dec) if self.size else np.zeros((0, 3))
        self.coarse_vectors = (
            self.vectors if motion is None or not self.size else sky.unit_vectors(cra, cdec)
        )
        #: cells of an RA/Dec grid that the cones' boxes touch, or None (see :class:`BoxGrid`)
        self.grid = BoxGrid.of(self.bounds, self.radius_arcsec)

    def match(
        self, ra: np.ndarray, dec: np.ndarray, mjd: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (target, detection) pairs within the radius, exactly: :meth:`candidates`, then
        :meth:`exact`.

        Parameters
        ----------
        ra, dec : array_like
            Detection positions in degrees.
        mjd : array_like, optional
            Detection times (MJD); needed when targets move.

        Returns
        -------
        target_index, detection_index : numpy.ndarray of int64
            Indices of each matched pair (into the cones' targets and into ``ra``/``dec``),
            sorted by target then detection.
        distance_arcsec : numpy.ndarray of float64
            Great-circle distance of each pair in arcsec.
        """
        ti, di, dist = self.candidates(ra, dec)
        if self.motion is None:
            return ti, di, dist
        if mjd is None:
            raise ValueError("moving targets: the detections' mjd is needed")
        ra, dec = np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64)
        keep, dist = self.exact(ti, ra[di], dec[di], np.asarray(mjd, np.float64)[di], dist)
        return ti[keep], di[keep], dist[keep]

    def candidates(
        self, ra: np.ndarray, dec: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The coarse step: (target, detection) pairs within each cone's coarse radius
        (:attr:`coarse_arcsec`) of the cone's centre (a moving target's position at the middle
        of the year), with that distance; without motion, the final answer. Returns what
        :meth:`match` does."""
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        if self.size == 0 or len(ra) == 0:
            return empty
        # 1) detections in a grid cell that some cone's box touches (a cheap first cut:
        #    arithmetic and one lookup), then in a pixel of some cover (NaN lies in neither)
        if self.grid is not None:
            near = self.grid.near(ra, dec)
            candidates = near[sky.in_pixels(ra[near], dec[near], self.pixels, self.order)]
        else:
            candidates = np.flatnonzero(sky.in_pixels(ra, dec, self.pixels, self.order))
        if len(candidates) == 0:
            return empty
        pix = sky.partition_of(ra[candidates], dec[candidates], order=self.order)
        # 2) every (target, candidate) pair whose cover holds the candidate's pixel
        lo = np.searchsorted(self.cover_pixels, pix, side="left")
        n = np.searchsorted(self.cover_pixels, pix, side="right") - lo
        ci = np.repeat(np.arange(len(candidates)), n)
        first = np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
        ti = self.cover_targets[first + np.arange(len(ci))]
        # 3) exact great-circle distance, and the radius test on it
        dvec = sky.unit_vectors(ra[candidates], dec[candidates])
        dist = sky.chord_to_arcsec(np.linalg.norm(self.coarse_vectors[ti] - dvec[ci], axis=1))
        if self.motion is None:
            keep = dist <= self.radius_arcsec
        else:
            keep = dist <= self.coarse_arcsec[ti]
        ti, di, dist = ti[keep], candidates[ci[keep]], dist[keep]
        order = np.lexsort((di, ti))
        return ti[order], di[order], dist[order]

    def exact(
        self,
        ti: np.ndarray,
        ra: np.ndarray,
        dec: np.ndarray,
        mjd: np.ndarray,
        dist: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The exact step for candidate pairs of moving targets' cones.

        Parameters
        ----------
        ti : numpy.ndarray
            Each pair's target (from :meth:`candidates`).
        ra, dec, mjd : numpy.ndarray
            Each pair's detection position (deg) and time (MJD).
        dist : numpy.ndarray
            :meth:`candidates`' distances (arcsec), kept for targets that do not move.

        Returns
        -------
        keep : numpy.ndarray of bool
            Pairs whose detection is within the radius of the target's position at the
            detection's time.
        distance_arcsec : numpy.ndarray of float64
            That distance for every pair (the reference distance for targets that do not move).
        """
        if self.motion is None:
            return dist <= self.radius_arcsec, dist
        ti = np.asarray(ti, np.int64)
        moving = self.motion.moving[ti]
        dist = np.array(dist, dtype=np.float64)
        if moving.any():
            dist[moving] = self.motion.distances(
                self.vectors,
                self.ra,
                self.dec,
                ti[moving],
                sky.unit_vectors(ra[moving], dec[moving]),
                mjd[moving],
            )
        return dist <= self.radius_arcsec, dist


class BoxGrid:
    """Cells of a regular RA/Dec grid that touch some cone's box (:func:`cone_bounds`).

    A conservative first cut for :meth:`Cones.match`: a detection outside every marked cell is
    outside every cone. Cells are square in degrees of RA and Dec, at least two radii across,
    at most :attr:`MAX_CELLS` of them (a table that stays in the CPU's cache); RA is unwrapped
    about the cones' middle, so a field across RA 0/360 is one grid. Built only for cones that
    lie within half the sky of RA of each other and hold no pole (:meth:`of` returns None
    otherwise: the pixel test alone).
    """

    #: Most cells in a grid (a boolean each).
    MAX_CELLS = 1 << 20

    def __init__(self, ra_ref, ra0, dec0, cell, mask):
        #: RA about which positions are unwrapped, or None when the grid lies in [0, 360)
        self.ra_ref = ra_ref
        self.ra0, self.dec0, self.cell = ra0, dec0, cell
        #: marked cells, with a border of unmarked ones all round (where outside positions go)
        self.mask = mask

    @classmethod
    def of(cls, bounds, radius_arcsec: float) -> BoxGrid | None:
        dec_lo, dec_hi, ra_c, half = bounds
        if len(ra_c) == 0 or np.any(half >= 180.0):
            return None
        ref = _unwrap(ra_c, ra_c[0])
        ref = 0.5 * (ref.min() + ref.max())
        centre = _unwrap(ra_c, ref)
        s = _PRUNE_SLACK_DEG
        lo_ra, hi_ra = centre - half - s, centre + half + s
        lo_dec, hi_dec = dec_lo - s, dec_hi + s
        if lo_ra.min() <= ref - 180.0 or hi_ra.max() >= ref + 180.0:
            return None
        ra0, dec0 = lo_ra.min(), lo_dec.min()
        area = (hi_ra.max() - ra0) * (hi_dec.max() - dec0)
        cell = max(2.0 * radius_arcsec * sky.ARCSEC, np.sqrt(area / cls.MAX_CELLS))
        # cell numbers, 1-based: row and column 0 (and the last ones) are the empty border
        i0 = np.floor((lo_dec - dec0) / cell).astype(np.int64) + 1
        i1 = np.floor((hi_dec - dec0) / cell).astype(np.int64) + 1
        j0 = np.floor((lo_ra - ra0) / cell).astype(np.int64) + 1
        j1 = np.floor((hi_ra - ra0) / cell).astype(np.int64) + 1
        # every (i, j) of every cone's box: cone k's cells are i0..i1 x j0..j1
        ni, nj = i1 - i0 + 1, j1 - j0 + 1
        count = ni * nj
        if count.sum() > 4 * cls.MAX_CELLS:  # wide boxes near a pole, overlapping: not worth it
            return None
        mask = np.zeros((int(i1.max()) + 2, int(j1.max()) + 2), dtype=bool)
        owner = np.repeat(np.arange(len(count)), count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        mask[i0[owner] + k // nj[owner], j0[owner] + k % nj[owner]] = True
        in_range = 0.0 <= ra0 and hi_ra.max() < 360.0  # RA in [0, 360) needs no unwrapping
        return cls(None if in_range else ref, ra0, dec0, cell, mask)

    def near(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Indices of the positions (degrees) in a marked cell; NaN positions are in none."""
        n_i, n_j = self.mask.shape
        if self.ra_ref is not None:
            ra = _unwrap(ra, self.ra_ref)
        # fmin/fmax send NaN and everything outside the grid to the border
        i = np.fmax(np.fmin((dec - self.dec0) / self.cell + 1.0, n_i - 1), 0.0).astype(np.int64)
        j = np.fmax(np.fmin((ra - self.ra0) / self.cell + 1.0, n_j - 1), 0.0).astype(np.int64)
        return np.flatnonzero(self.mask.ravel()[i * n_j + j])


def _unwrap(ra: np.ndarray, ref: float) -> np.ndarray:
    """RA (degrees) moved by multiples of 360 into [ref - 180, ref + 180)."""
    return (np.asarray(ra, float) - ref + 180.0) % 360.0 - 180.0 + ref


def cone_bounds(
    target_ra: np.ndarray, target_dec: np.ndarray, radius_arcsec: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dec range and RA half-width (degrees) of each cone; half-width 180 where a pole is inside.

    Returns ``dec_lo, dec_hi, ra_centre, ra_half_width``. The RA half-width of a cone of radius
    ``r`` at declination ``d`` is ``asin(sin r / cos d)``, exact when the cone holds no pole.
    """
    r = radius_arcsec * sky.ARCSEC
    dec = np.asarray(target_dec, float)
    dec_lo, dec_hi = dec - r, dec + r
    polar = (dec_hi >= 90.0) | (dec_lo <= -90.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sin(np.radians(r)) / np.cos(np.radians(dec))
        half = np.degrees(np.arcsin(np.clip(ratio, -1.0, 1.0)))
    half = np.where(polar | ~np.isfinite(half), 180.0, half)
    return dec_lo, dec_hi, np.asarray(target_ra, float), half


def may_overlap(bounds, ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> bool:
    """Whether any cone (:func:`cone_bounds`) can touch the box ``[ra_min, ra_max] x [dec_min,
    dec_max]`` of a row group's statistics; RA intervals that cross 0/360 are handled."""
    dec_lo, dec_hi, ra_c, half = bounds
    s = _PRUNE_SLACK_DEG
    dec_ok = (dec_hi >= dec_min - s) & (dec_lo <= dec_max + s)
    if not dec_ok.any():
        return False
    ra_ok = half >= 180.0
    for shift in (-360.0, 0.0, 360.0):
        lo, hi = ra_c - half + shift, ra_c + half + shift
        ra_ok = ra_ok | ((hi >= ra_min - s) & (lo <= ra_max + s))
    return bool((dec_ok & ra_ok).any())


def _minmax(rg: pq.RowGroupMetaData, index: int) -> tuple[float, float] | None:
    stats = rg.column(index).statistics
    if stats is None or not stats.has_min_max:
        return None
    lo, hi = float(stats.min), float(stats.max)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return lo, hi


def _may_hold_a_match(rg: pq.RowGroupMetaData, ra_i: int, dec_i: int, bounds) -> bool:
    """Whether a row group must be read: it has rows, and its ``ra``/``dec`` statistics are
    missing or overlap a cone (:func:`may_overlap`)."""
    if rg.num_rows == 0:
        return False
    ra_mm, dec_mm = _minmax(rg, ra_i), _minmax(rg, dec_i)
    if ra_mm is None or dec_mm is None:
        return True
    return may_overlap(bounds, *ra_mm, *dec_mm)


def candidate_row_groups(meta: pq.FileMetaData, bounds) -> list[int]:
    """The coarse filter: row groups of a file (its footer ``meta``) whose ``ra``/``dec``
    statistics do not exclude every cone of ``bounds`` (:func:`cone_bounds`)."""
    ra_i, dec_i = parquet.column_indices(meta, ("ra", "dec"))
    return [
        g
        for g in range(meta.num_row_groups)
        if _may_hold_a_match(meta.row_group(g), ra_i, dec_i, bounds)
    ]


def output_schema(
    columns: tuple[str, ...], file_schema: pa.Schema | None = None, locations: bool = True
) -> pa.Schema:
    """Schema of a match cache file: ``target_id``, ``dist_arcsec``, ``year``, then ``columns``
    (typed as in ``file_schema``, by default the NEOWISE catalogue's), then, with
    ``locations``, :data:`~neowise_lightcurves.columns.LOCATION_COLUMNS` (a TAP answer has none)."""
    file_schema = cols.file_schema() if file_schema is None else file_schema
    fields = [
        pa.field("target_id", pa.string()),
        pa.field("dist_arcsec", pa.float64(), metadata={"unit": "arcsec"}),
        pa.field("year", pa.string()),
    ]
    fields += [file_schema.field(c).with_nullable(True) for c in columns]
    if locations:
        path_column, row_column = cols.LOCATION_COLUMNS
        fields += [pa.field(path_column, pa.string()), pa.field(row_column, pa.int64())]
    return pa.schema(fields)


def row_group_batches(sizes: list[int], max_rows: int) -> list[list[int]]:
    """Split row groups (their row counts ``sizes``, in file order) into consecutive batches of
    at most ``max_rows`` rows each (a single larger row group makes a batch of its own)."""
    batches, batch, n = [], [], 0
    for g, rows in enumerate(sizes):
        if batch and n + rows > max_rows:
            batches.append(batch)
            batch, n = [], 0
        batch.append(g)
        n += rows
    if batch:
        batches.append(batch)
    return batches


def match_file(
    catalog: Catalog,
    info,
    targets: pd.DataFrame,
    radius_arcsec: float,
    columns: tuple[str, ...],
    cones: Cones | None = None,
    batch_rows: int = BATCH_ROWS,
    record: ReadRecord | None = None,
    passes: int | None = None,
) -> list[pa.Table]:
    """Matches of ``targets`` in one Parquet file (``info``: a pyarrow ``FileInfo``).

    The steps, each a round trip to the storage whatever the file's size: the footer
    (:func:`~neowise_lightcurves.parquet.open_parquet`: one read of its tail, the file's size
    from the listing, while the file is opened for the reads after it);
    the coarse filter (:func:`candidate_row_groups`: row groups whose ``ra``/``dec`` statistics
    exclude every cone are skipped); then the candidate row groups read in one pass or two
    (:func:`passes_for`, from the footer): in **one pass** every column of them at once
    (:func:`_one_pass`), in **two passes** ``ra`` and ``dec`` of them (up to
    :data:`POSITION_BATCH_ROWS` rows at once), then the other columns of only the row groups
    that hold a match (:func:`_two_passes`). Batches of up to ``batch_rows`` rows,
    :data:`CONCURRENT_BATCHES` at once. Every read asks for all its column chunks together
    (:func:`neowise_lightcurves.ranged.read_row_groups`: ranges coalesced and fetched
    concurrently), which hides an object store's latency. The exact test is
    :meth:`Cones.candidates` on the positions read, then, for moving targets,
    :meth:`Cones.exact` on each detection's ``mjd`` (:func:`_matches`).

    ``cones``, the targets' :class:`Cones` when already set up (one partition may have several
    files), saves setting them up again. ``record``, when given, is added what was read
    (:mod:`neowise_lightcurves.reads`). ``passes``: 1 or 2 to force one way (default: chosen
    per file). Returns a list of tables (one per batch with matches) holding ``target_id``,
    ``dist_arcsec``, ``columns`` and :data:`~neowise_lightcurves.columns.LOCATION_COLUMNS`.
    """
    try:
        source, meta = parquet.open_parquet(catalog.filesystem, info.path, info.size)
        schema = meta.schema.to_arrow_schema()
    except Exception as err:
        raise CatalogError(f"cannot read catalogue file {info.path}: {explain(err)}") from err
    missing = [c for c in columns if schema.get_field_index(c) < 0]
    if missing:
        raise CatalogError(
            f"catalogue file {info.path} lacks needed column(s): {', '.join(missing)}"
        )
    if cones is None:
        cones = Cones(targets["ra"], targets["dec"], radius_arcsec)
    others = [c for c in columns if c not in ("ra", "dec")]
    if cones.motion is not None and "mjd" not in others:
        others.append("mjd")  # the exact step of moving targets needs each detection's time
    keep = candidate_row_groups(meta, cones.bounds)
    if cones.motion is not None and cones.motion.moving.any():
        check_times(meta, range(meta.num_row_groups), cones.motion.mjd_range, info.path)
    if record is not None:
        record.add(**reads.open_cost(meta, source.size(), len(keep)).to_dict())
    if not keep:
        return []
    n_passes = passes or passes_for(meta, keep)
    step = _one_pass if n_passes == 1 else _two_passes
    target_ids = targets["target_id"].to_numpy(dtype=object)
    out = []
    try:
        for found in step(source, meta, keep, others, cones, batch_rows, record):
            out.append(_matches(found, cones, columns, target_ids, info.path))
    except MotionRangeError:
        raise
    except Exception as err:
        raise CatalogError(f"cannot read catalogue file {info.path}: {explain(err)}") from err
    if record is not None and n_passes == 1:
        record.add(files_one_pass=1)
    return out


#: One batch's candidate pairs, as :func:`_one_pass` and :func:`_two_passes` yield them: each
#: pair's target (index into the cones), coarse distance (arcsec), detection position (deg),
#: row in the file, and the detection's other columns (a table, one row per pair).
Found = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, pa.Table]


def passes_for(meta: pq.FileMetaData, groups: list[int]) -> int:
    """Read a file's candidate row groups ``groups`` in one pass (every column at once) or two
    (positions first, then the rest of the row groups holding a match), from its footer.

    Two passes cost one more round trip and save the other columns of the row groups that hold
    no match. Where every candidate row group is likely to hold one, one pass is cheaper: a
    single candidate row group, or row groups that each span most of the file's time range
    (rows in random or spatial order, where a source's detections over its visits fall in
    every row group its position's statistics allow). Where the row groups split the file's
    time range into parts (rows in time order), a target's detections lie in the few row
    groups of its visits: two passes. Row groups without ``mjd`` statistics count as spanning
    the whole range.
    """
    if len(groups) <= 1:
        return 1
    index = meta.schema.to_arrow_schema().get_field_index("mjd")
    spans, lows, highs = [], [], []
    for g in groups:
        stats = meta.row_group(g).column(index).statistics if index >= 0 else None
        if stats is None or not stats.has_min_max:
            return 1
        lows.append(float(stats.min))
        highs.append(float(stats.max))
        spans.append(highs[-1] - lows[-1])
    whole = max(highs) - min(lows)
    if not whole > 0:
        return 1
    # row groups that each cover at most half the file's time range: time-ordered
    return 2 if np.median(spans) <= 0.5 * whole else 1


def _row_group_rows(meta: pq.FileMetaData) -> tuple[np.ndarray, np.ndarray]:
    """Each row group's rows, and the row of the file each starts at (one more entry: the
    file's rows)."""
    sizes = np.array([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
    return sizes, np.concatenate([[0], np.cumsum(sizes)])


def _file_rows(sizes, starts, groups, index) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``index`` of the row groups ``groups`` read together (a table of their rows one
    after another): each one's row in the file, and its row group's position in ``groups``
    (``sizes``, ``starts``: :func:`_row_group_rows`)."""
    first = np.concatenate([[0], np.cumsum(sizes[groups])])
    at = np.searchsorted(first, index, side="right") - 1
    return starts[np.asarray(groups)[at]] + index - first[at], at


def _index_in_read(sizes, starts, groups, rows) -> np.ndarray:
    """The inverse of :func:`_file_rows`: each of the file's ``rows`` as an index into the row
    groups ``groups`` (sorted, holding every one of the rows) read together."""
    group_of = np.searchsorted(starts, rows, side="right") - 1
    first = np.concatenate([[0], np.cumsum(sizes[groups])])
    return rows - starts[group_of] + first[np.searchsorted(groups, group_of)]


def _one_pass(source, meta, groups, others, cones, batch_rows, record):
    """Every needed column of the candidate row groups, read at once (in batches of up to
    ``batch_rows`` rows, :data:`CONCURRENT_BATCHES` at once); yields :data:`Found` per batch
    with a candidate pair."""
    sizes, starts = _row_group_rows(meta)
    names = ["ra", "dec", *others]
    batches = [[groups[i] for i in b] for b in row_group_batches(list(sizes[groups]), batch_rows)]

    def read(batch):
        strings = parquet.dictionary_columns(meta, batch, others)
        return ranged.read_row_groups(source, meta, batch, names, record, "column_bytes", strings)

    with ThreadPoolExecutor(max_workers=min(CONCURRENT_BATCHES, len(batches))) as pool:
        for batch, table in zip(batches, pool.map(read, batches), strict=True):
            ra = table["ra"].to_numpy(zero_copy_only=False)
            dec = table["dec"].to_numpy(zero_copy_only=False)
            ti, di, dist = cones.candidates(ra, dec)
            if record is not None:
                record.add(row_groups_second_pass=len(batch))
            if len(ti) == 0:
                continue
            rows, _ = _file_rows(sizes, starts, batch, di)
            yield ti, dist, ra[di], dec[di], rows, table.select(others).take(pa.array(di))


def _two_passes(source, meta, groups, others, cones, batch_rows, record):
    """``ra`` and ``dec`` of the candidate row groups first (up to :data:`POSITION_BATCH_ROWS`
    rows at once), then the other columns of only the row groups holding a candidate pair, in
    batches of up to ``batch_rows`` rows, :data:`CONCURRENT_BATCHES` at once; yields
    :data:`Found` per batch."""
    sizes, starts = _row_group_rows(meta)

    def second_pass(job):
        chosen, local = job[0], job[1]
        strings = parquet.dictionary_columns(meta, chosen, others)
        table = ranged.read_row_groups(
            source, meta, chosen, others, record, "column_bytes", strings
        )
        if record is not None:
            record.add(row_groups_second_pass=len(chosen))
        return table.take(pa.array(local))

    for batch in row_group_batches(list(sizes[groups]), POSITION_BATCH_ROWS):
        read = [groups[i] for i in batch]
        pos = ranged.read_row_groups(source, meta, read, ["ra", "dec"], record, "position_bytes")
        ra = pos["ra"].to_numpy(zero_copy_only=False)
        dec = pos["dec"].to_numpy(zero_copy_only=False)
        ti, di, dist = cones.candidates(ra, dec)
        if len(ti) == 0:
            continue
        # the row groups that hold a candidate, in batches, and each one's row in its batch
        rows, where = _file_rows(sizes, starts, read, di)  # where: index into read
        hit = np.unique(where)
        jobs = []
        for sub in row_group_batches(list(sizes[[read[i] for i in hit]]), batch_rows):
            chosen = [read[i] for i in hit[sub]]
            in_batch = np.flatnonzero(np.isin(where, hit[sub]))
            local = _index_in_read(sizes, starts, chosen, rows[in_batch])
            jobs.append((chosen, local, in_batch))
        with ThreadPoolExecutor(max_workers=min(CONCURRENT_BATCHES, len(jobs))) as pool:
            for job, table in zip(jobs, pool.map(second_pass, jobs), strict=True):
                which = job[2]
                d = di[which]
                yield ti[which], dist[which], ra[d], dec[d], rows[which], table


def _strings(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary columns (flags read as dictionaries,
    :func:`~neowise_lightcurves.parquet.dictionary_columns`) as their values' type again: a
    match's columns are the catalogue's."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            values = table.column(i).cast(field.type.value_type)
            table = table.set_column(i, field.with_type(field.type.value_type), values)
    return table


def _matches(found: Found, cones: Cones, columns, target_ids, path: str) -> pa.Table:
    """The exact step for a batch's candidate pairs (moving targets: the distance from the
    target's position at each detection's own time, :meth:`Cones.exact`), then the match
    table: ``target_id``, ``dist_arcsec``, ``columns``, and each match's catalogue file and
    row (:data:`~neowise_lightcurves.columns.LOCATION_COLUMNS`)."""
    ti, dist, ra, dec, rows, table = found
    table = _strings(table)
    if cones.motion is not None:
        within, dist = cones.exact(ti, ra, dec, table["mjd"].to_numpy(zero_copy_only=False), dist)
        table = table.filter(pa.array(within))
        ti, dist, ra, dec, rows = ti[within], dist[within], ra[within], dec[within], rows[within]
    for name, values in (("ra", ra), ("dec", dec)):  # already decoded: not again
        if name in columns:
            table = table.append_column(pa.field(name, pa.float64()), pa.array(values))
    table = table.select(list(columns))
    path_column, row_column = cols.LOCATION_COLUMNS
    paths = pa.repeat(pa.scalar(path, pa.string()), table.num_rows)
    table = table.append_column(path_column, paths)
    table = table.append_column(row_column, pa.array(rows, pa.int64()))
    table = table.add_column(0, "dist_arcsec", pa.array(dist, pa.float64()))
    return table.add_column(0, "target_id", pa.array(target_ids[ti], pa.string()))


def read_at(
    catalog: Catalog,
    locations: pa.Table,
    columns: tuple[str, ...],
    concurrent_files: int,
    record: ReadRecord | None = None,
) -> pa.Table:
    """``columns`` of the catalogue rows at ``locations`` (a match cache's
    :data:`~neowise_lightcurves.columns.LOCATION_COLUMNS`), in their order: for each file, its
    footer, then those columns of only the row groups that hold one of the rows, in one read
    (:func:`neowise_lightcurves.ranged.read_row_groups`); ``concurrent_files`` files at once.
    Matching is not done again: what a cut needing a new column costs is these bytes alone.

    Raises
    ------
    CatalogError
        If a file cannot be read, lacks a column, or has fewer rows than a location names.
    """
    full = output_schema(columns)
    schema = pa.schema([full.field(c) for c in columns])
    path_column, row_column = cols.LOCATION_COLUMNS
    files = locations[path_column].to_numpy(zero_copy_only=False).astype(object)
    rows = locations[row_column].to_numpy(zero_copy_only=False).astype(np.int64)
    if len(files) == 0 or not columns:
        return schema.empty_table()
    names, inverse = np.unique(files, return_inverse=True)

    def one_file(i: int) -> tuple[np.ndarray, pa.Table]:
        path = str(names[i])
        at = np.flatnonzero(inverse == i)
        try:
            source, meta = parquet.open_parquet(catalog.filesystem, path)
            file_schema = meta.schema.to_arrow_schema()
            missing = [c for c in columns if file_schema.get_field_index(c) < 0]
            if missing:
                raise CatalogError(f"catalogue file {path} lacks column(s): {', '.join(missing)}")
            sizes, starts = _row_group_rows(meta)
            if rows[at].max() >= starts[-1]:
                raise CatalogError(
                    f"catalogue file {path} has {starts[-1]:,} rows, not the row "
                    f"{rows[at].max():,} a match cache names: it changed since it was matched"
                )
            groups = np.unique(np.searchsorted(starts, rows[at], side="right") - 1)
            if record is not None:
                record.add(**reads.open_cost(meta, source.size(), len(groups)).to_dict())
                record.add(row_groups_second_pass=len(groups))
            table = ranged.read_row_groups(
                source, meta, [int(g) for g in groups], list(columns), record, "column_bytes"
            )
            return at, table.take(pa.array(_index_in_read(sizes, starts, groups, rows[at])))
        except CatalogError:
            raise
        except Exception as err:
            raise CatalogError(f"cannot read catalogue file {path}: {explain(err)}") from err

    with ThreadPoolExecutor(max_workers=max(1, int(concurrent_files))) as pool:
        parts = list(pool.map(one_file, range(len(names))))
    order = np.argsort(np.concatenate([at for at, _ in parts]), kind="stable")
    table = pa.concat_tables(
        [t.select(list(columns)) for _, t in parts], promote_options="permissive"
    )
    return table.take(pa.array(order)).cast(schema)


def check_times(meta, groups, mjd_range: tuple[float, float], path: str) -> None:
    """Refuse row groups whose ``mjd`` statistics reach outside ``mjd_range`` (d): moving
    targets' cones were widened only for that range, so a detection outside it could be
    missed by the coarse step. Row groups without statistics are left to the exact step's own
    check (:meth:`neowise_lightcurves.motion.Motion.distances`).

    Raises
    ------
    neowise_lightcurves.motion.MotionRangeError
        Naming the file, the row group and both ranges.
    """
    column = meta.schema.to_arrow_schema().get_field_index("mjd")
    lo, hi = mjd_range
    for g in groups:
        stats = meta.row_group(g).column(column).statistics
        if stats is None or not stats.has_min_max:
            continue
        if stats.min < lo or stats.max > hi:
            raise MotionRangeError(
                f"catalogue file {path}, row group {g}: detections from MJD {stats.min:.2f} to "
                f"{stats.max:.2f}, outside MJD {lo:g}-{hi:g}, the range assumed for this survey "
                "year when widening moving targets' cones (neowise_lightcurves.motion.YEAR_MJD); "
                "set match.proper_motion: false to match without proper motion"
            )


def match_shard(
    catalog: Catalog,
    year: str,
    rows: pd.DataFrame,
    radius_arcsec: float,
    columns: tuple[str, ...],
    concurrent_partitions: int,
    record: ReadRecord | None = None,
    file_schema: pa.Schema | None = None,
) -> pa.Table:
    """Match one shard in one year.

    Parameters
    ----------
    catalog : Catalog
        The opened catalogue root.
    year : str
        ``"year1"`` ... ``"year11"`` or ``"addendum"``.
    rows : pandas.DataFrame
        The shard's (target, partition) rows from the manifest: ``target_id, ra, dec, k5``,
        and ``pmra, pmdec, pm_epoch`` for moving targets (their cones widened for ``year``).
    radius_arcsec : float
        Cone radius.
    columns : tuple of str
        Catalogue columns to keep (see :func:`neowise_lightcurves.columns.cached_columns`).
    concurrent_partitions : int
        Partition files read at once, each in a thread of its own (a partition's several files
        count one each; hides storage latency; pyarrow releases the GIL). Partitions are listed
        as many at once. Not CPU cores: pyarrow decodes on its own pool, sized to the job's
        ``threads``.
    record : ReadRecord, optional
        Added what the job reads (:mod:`neowise_lightcurves.reads`).
    file_schema : pyarrow.Schema, optional
        The files' schema, when not the NEOWISE catalogue's (a local copy of the AllWISE MEP,
        :func:`neowise_lightcurves.allwise_match.match_local`).

    Returns
    -------
    pyarrow.Table
        :func:`output_schema`, sorted by ``target_id``, ``mjd``, ``cntr``. A partition with no
        file this year contributes nothing.
    """
    if not catalog.year_exists(year):
        raise CatalogError(
            f"no dataset for {year} under {catalog.root!r} "
            f"(looked for {catalog.path(year)}/...); check catalog.root and catalog.years"
        )
    if record is not None:
        record.add(requests=reads.YEAR_LOOKUP_REQUESTS)
    by_k5 = {int(k5): g for k5, g in rows.groupby("k5", sort=True)}

    def listing(unit):
        files, requests = catalog.list_partitions(year, unit)
        if record is not None:
            record.add(listings=1, requests=requests)
        for k5 in unit:
            log.info("%s k5=%d: %d target(s), %d file(s)", year, k5, len(by_k5[k5]), len(files[k5]))
        return files

    def one_file(item):
        info, targets, cones = item
        return match_file(catalog, info, targets, radius_arcsec, columns, cones, record=record)

    # a partition's files are read as soon as its listing is back, whichever listing that is
    # (at 80 ms a round trip, 24 partitions listed 4 at a time held the first read ~0.7 s),
    # concurrent_partitions files at a time, so a partition of several files is not read one
    # file after another; a failed read stops the job without waiting for the listings
    n = max(1, int(concurrent_partitions))
    with ThreadPoolExecutor(n) as lister, ThreadPoolExecutor(n) as reader:
        listing_left = {lister.submit(listing, u) for u in listing_units(by_k5)}
        reading = {}  # future -> (k5, file name): the pieces are joined in that order
        unseen = set()  # reads whose outcome has not been looked at yet
        try:
            while listing_left:
                done, _ = wait(listing_left | unseen, return_when=FIRST_COMPLETED)
                for future in done:
                    if future in unseen:
                        unseen.discard(future)
                        future.result()  # a read that failed raises here
                        continue
                    listing_left.discard(future)
                    for k5, files in future.result().items():
                        if not files:
                            continue
                        targets = by_k5[k5]
                        cones = Cones(
                            targets["ra"], targets["dec"], radius_arcsec, Motion.of(targets, [year])
                        )
                        for info in files:
                            read = reader.submit(one_file, (info, targets, cones))
                            reading[read] = (k5, info.base_name)
                            unseen.add(read)
            done, _ = wait(unseen, return_when=FIRST_EXCEPTION)
            for future in done:
                future.result()  # a read that failed raises here, before the others finish
            pieces = [t for f in sorted(reading, key=reading.get) for t in f.result()]
        except BaseException:
            for future in (*listing_left, *reading):  # a failed listing or read stops the rest
                future.cancel()
            raise
    schema = output_schema(columns, file_schema)
    if not pieces:
        return schema.empty_table()
    table = pa.concat_tables(pieces, promote_options="permissive")
    table = table.add_column(2, "year", pa.array([year] * table.num_rows, pa.string()))
    table = table.select(schema.names).cast(schema)
    return table.sort_by([("target_id", "ascending"), ("mjd", "ascending"), ("cntr", "ascending")])
