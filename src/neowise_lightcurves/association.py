"""Association diagnostics: where a target's detections lie, how they scatter, how many are
flagged as blended or contaminated, and whether they form two separate positional clusters (a
second source within the cone).

Positions are tangent-plane (gnomonic) offsets, east and north in arcsec, of each detection from
a reference position given per row (:func:`tangent_offsets`; by default the target's own
position, :func:`target_references`), computed from unit vectors: exact at the poles and across
RA 0/360. Scatter is robust and does not depend on how the axes are turned (near a pole east and
north turn quickly with position): the median distance of the positions from their median
position, over ``sqrt(2 ln 2)`` = 1.1774, the median of a two-dimensional Gaussian's radius in
units of its per-coordinate sigma (a round Gaussian cloud of per-coordinate width sigma gives
sigma).

The second-source test (:func:`second_source`) splits each target's offsets in two along their
principal axis (the split that minimises the within-cluster sum of squares along that axis, found
exactly from sorted prefix sums) and accepts the split when both parts hold enough detections,
their centres (medians) lie further apart than an absolute minimum and than a multiple of the
within-cluster scatter measured *across* the axis, and the gap between them is sparse. The split
along the axis narrows each part of a single cloud, whatever its shape, but leaves the spread
across the axis as it is: a single round cloud gives centres ~1.6 sigma apart (sigma its width),
two clouds of width sigma at a distance ``d`` give ``d / sigma``; a heavy-tailed cloud cut at its
tail is densest at the cut, two clouds leave a gap. Everything is vectorised over all targets at
once (no per-target loop). Settings and measured rates: docs/outputs.md, benchmarks/association.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import sky
from .motion import to_radec

#: Arcseconds per radian.
ARCSEC_PER_RADIAN = 180.0 / np.pi * 3600.0

#: Per-target position columns (:func:`position_statistics`), in summary order.
POSITION_COLUMNS = (
    "offset_median_arcsec",
    "centroid_east_arcsec",
    "centroid_north_arcsec",
    "offset_scatter_arcsec",
)
#: Per-target flag fractions (:func:`flag_fractions`).
FLAG_COLUMNS = ("frac_blended", "frac_contaminated")
#: Per-target second-source columns (:func:`second_source`).
SECOND_SOURCE_COLUMNS = ("second_source", "second_source_sep_arcsec", "second_source_frac")
#: Everything :func:`diagnostics` gives, in summary order.
COLUMNS = POSITION_COLUMNS + FLAG_COLUMNS + SECOND_SOURCE_COLUMNS
#: Settings of the second-source test (config ``association``).
OPTION_KEYS = (
    "min_cluster_detections",
    "min_cluster_fraction",
    "min_separation_arcsec",
    "min_separation_sigma",
    "max_gap_ratio",
)


def tangent_offsets(ra, dec, ref_ra, ref_dec) -> tuple[np.ndarray, np.ndarray]:
    """Gnomonic offsets of positions from reference positions.

    Parameters
    ----------
    ra, dec : array_like
        Positions (deg).
    ref_ra, ref_dec : array_like
        Each row's reference position (deg), broadcast against ``ra``: the target's position, or
        a position propagated to the detection's epoch.

    Returns
    -------
    east, north : numpy.ndarray
        Offsets (arcsec) on the plane tangent to the sphere at the reference: ``east`` towards
        increasing RA, ``north`` towards increasing Dec. At a pole, where east and north are
        undefined, they are the limits along the reference's RA meridian: ``north`` points
        from the pole along RA ``ref_ra + 180``, ``east`` along RA ``ref_ra + 90`` (at the
        north pole). NaN for a position 90 deg or more from its reference.
    """
    p = sky.unit_vectors(ra, dec)
    east_v, north_v = sky.east_north(ref_ra, ref_dec)
    w = np.sum(p * sky.unit_vectors(ref_ra, ref_dec), axis=1)  # cosine of the angle from it
    e = np.sum(p * east_v, axis=1)
    n = np.sum(p * north_v, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = w > 0
        east = np.where(inside, e / w, np.nan) * ARCSEC_PER_RADIAN
        north = np.where(inside, n / w, np.nan) * ARCSEC_PER_RADIAN
    return east, north


def target_references(target_id, targets: pd.DataFrame, mjd=None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's target position (``ra``, ``dec`` of ``targets`` by ``target_id``; deg), the
    default reference of :func:`tangent_offsets`. When ``targets`` has proper motions
    (:data:`neowise_lightcurves.motion.COLUMNS`) and ``mjd`` (each row's time, d) is given, a
    moving target's position is propagated to each row's time
    (:func:`neowise_lightcurves.motion.propagate`)."""
    from . import motion

    moving = motion.has_motion(targets) and mjd is not None
    cols = ["ra", "dec", *motion.COLUMNS] if moving else ["ra", "dec"]
    pos = targets.drop_duplicates("target_id").set_index("target_id")[cols]
    ref = pos.reindex(pd.Index(np.asarray(target_id, dtype=object)))
    if ref["ra"].isna().any():
        missing = ref.index[ref["ra"].isna().to_numpy()].unique()[:5].tolist()
        raise KeyError(f"detections of targets not in the target table: {missing}")
    ra, dec = ref["ra"].to_numpy(dtype=float), ref["dec"].to_numpy(dtype=float)
    if not moving:
        return ra, dec
    pmra, pmdec, epoch = motion.proper_motions(ref)
    dt = (np.asarray(mjd, dtype=float) - epoch) / motion.DAYS_PER_JULIAN_YEAR
    return motion.to_radec(motion.propagate(ra, dec, pmra, pmdec, dt))


#: Median radius of a round two-dimensional Gaussian in units of its per-coordinate sigma.
MEDIAN_RADIUS = np.sqrt(2 * np.log(2))


def robust_scatter(east, north, groups) -> pd.Series:
    """Per group, the median distance of the positions from their median position (the median
    of each coordinate) over ``sqrt(2 ln 2)``: a per-coordinate sigma (arcsec), robust to
    outliers and the same however the axes are turned; NaN for groups of fewer than two
    positions."""
    groups = np.asarray(groups)
    e, n = pd.Series(np.asarray(east, float)), pd.Series(np.asarray(north, float))
    de = e - e.groupby(groups).transform("median")
    dn = n - n.groupby(groups).transform("median")
    radius = pd.Series(np.hypot(de, dn)).groupby(groups)
    return (radius.median() / MEDIAN_RADIUS).where(radius.count() >= 2)


def centroid_scatter(ra, dec, groups) -> np.ndarray:
    """Robust positional scatter (arcsec, :func:`robust_scatter`) of each group of positions about
    its own centroid, on the plane tangent at the group's mean direction; groups are
    ``0 .. G-1``, the result is indexed by them (NaN for fewer than two positions)."""
    groups = np.asarray(groups, dtype=np.int64)
    size = int(groups.max()) + 1 if len(groups) else 0
    x, y, z = sky.unit_vectors(ra, dec).T
    mean = np.stack([np.bincount(groups, v, size) for v in (x, y, z)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cra, cdec = to_radec(mean)  # the mean direction (a sum of unit vectors)
    east, north = tangent_offsets(ra, dec, cra[groups], cdec[groups])
    return robust_scatter(east, north, groups).reindex(np.arange(size)).to_numpy(dtype=float)


def position_statistics(target_id, east, north) -> pd.DataFrame:
    """Per target (indexed by id, in first-seen order): ``offset_median_arcsec`` (median distance
    of the detections from the reference), ``centroid_east_arcsec``, ``centroid_north_arcsec``
    (median east and north offsets) and ``offset_scatter_arcsec`` (:func:`robust_scatter`
    about those medians)."""
    tid = pd.Index(np.asarray(target_id, dtype=object))
    codes, ids = pd.factorize(tid, sort=False)
    e, n = pd.Series(np.asarray(east, float)), pd.Series(np.asarray(north, float))
    out = pd.DataFrame(
        {
            "offset_median_arcsec": pd.Series(np.hypot(e, n)).groupby(codes).median(),
            "centroid_east_arcsec": e.groupby(codes).median(),
            "centroid_north_arcsec": n.groupby(codes).median(),
            "offset_scatter_arcsec": robust_scatter(e.to_numpy(), n.to_numpy(), codes),
        }
    )
    out.index = pd.Index(ids[out.index.to_numpy()], name="target_id")
    return out


def flag_fractions(matches, targets=None) -> pd.DataFrame:
    """Per target, over its distinct detections (``cntr``) in ``matches`` (any table with
    ``target_id``, ``cntr``, ``nb``, ``na``, ``cc_flags``; Arrow or pandas):

    ``frac_blended``: fraction fit as part of a blend, ``nb > 1`` (more than one PSF component
    fit at once) or ``na > 0`` (actively deblended); ``frac_contaminated``: fraction whose
    ``cc_flags`` are not all ``'0'`` (an artefact — diffraction spike, persistence, halo, ghost —
    flagged in some band), among those with ``cc_flags``. Only targets of ``targets`` (ids or
    a frame with ``target_id``) when given; indexed by target id.
    """
    names = ["target_id", "cntr", "nb", "na", "cc_flags"]
    if isinstance(matches, pd.DataFrame):
        matches = pa.Table.from_pandas(matches[names], preserve_index=False)
    missing = [c for c in names if c not in matches.column_names]
    if missing:
        raise KeyError(f"match table lacks columns {missing}")
    if targets is None:
        targets = matches["target_id"].unique().to_numpy(zero_copy_only=False)
    ids = targets["target_id"] if isinstance(targets, pd.DataFrame) else targets
    ids = np.sort(pd.unique(np.asarray(ids, dtype=object)))
    code = pc.index_in(matches["target_id"], value_set=pa.array(ids, pa.string()))
    code = code.fill_null(-1).to_numpy(zero_copy_only=False)
    cntr = matches["cntr"].to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(code >= 0)
    order = rows[np.lexsort((cntr[rows], code[rows]))]
    first = np.ones(len(order), dtype=bool)  # each (target, cntr) once
    first[1:] = (code[order][1:] != code[order][:-1]) | (cntr[order][1:] != cntr[order][:-1])
    rows = order[first]
    take = pa.array(rows, pa.int64())
    c = code[rows]
    nb = pc.fill_null(matches["nb"].take(take), 1).to_numpy(zero_copy_only=False)
    na = pc.fill_null(matches["na"].take(take), 0).to_numpy(zero_copy_only=False)
    cc = pc.match_substring_regex(matches["cc_flags"].take(take), "[^0]")
    has_cc = pc.is_valid(cc).to_numpy(zero_copy_only=False)
    contaminated = pc.fill_null(cc, False).to_numpy(zero_copy_only=False)
    n = np.bincount(c, minlength=len(ids))
    n_cc = np.bincount(c, has_cc, len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "frac_blended": np.bincount(c, (nb > 1) | (na > 0), len(ids)) / n,
                "frac_contaminated": np.bincount(c, contaminated, len(ids)) / n_cc,
            },
            index=pd.Index(ids, name="target_id"),
        )
    return out[n > 0]


def second_source(
    target_id,
    east,
    north,
    min_cluster_detections: int,
    min_cluster_fraction: float,
    min_separation_arcsec: float,
    min_separation_sigma: float,
    max_gap_ratio: float,
) -> pd.DataFrame:
    """Whether each target's detections form two separate positional clusters.

    Parameters
    ----------
    target_id : array_like
        Each detection's target.
    east, north : array_like
        Offsets (arcsec) from any reference (:func:`tangent_offsets`); rows with NaN are left
        out.
    min_cluster_detections : int
        Fewest detections in each cluster.
    min_cluster_fraction : float
        Smallest fraction of the target's detections in each cluster.
    min_separation_arcsec : float
        Smallest distance between the two clusters' centroids (arcsec).
    min_separation_sigma : float
        Smallest distance between the centroids in units of the within-cluster scatter across
        the split axis (the pooled standard deviation of the offsets perpendicular to it, about
        each cluster's mean).
    max_gap_ratio : float
        Most detections in the gap between the clusters, relative to the sparser cluster's
        core: along the axis, those within a sixth of the clusters' distance of their midpoint
        over those as near the sparser cluster's mean. A single cloud, even a heavy-tailed one
        cut at its tail, is densest near the cut (ratio > 1); two clusters leave a gap.

    Returns
    -------
    pandas.DataFrame
        Indexed by target id (first-seen order): ``second_source`` (bool),
        ``second_source_sep_arcsec`` (distance between the two clusters' median positions) and
        ``second_source_frac`` (fraction of the detections in the smaller cluster), both NaN
        when not flagged.

    Notes
    -----
    The split: offsets are centred on each target's mean and projected on the principal axis
    of their covariance; of the splits of the sorted projections that leave both parts large
    enough, the one with the largest between-part sum of squares is kept (1-D 2-means).
    Cluster centres are medians (a part cut from a heavy-tailed cloud's tail keeps its few far
    outliers out of its centre).
    """
    tid = np.asarray(target_id, dtype=object)
    x, y = np.asarray(east, float), np.asarray(north, float)
    ok = np.isfinite(x) & np.isfinite(y)
    codes_all, ids = pd.factorize(pd.Index(tid), sort=False)
    G = len(ids)
    code, x, y = codes_all[ok], x[ok], y[ok]
    cnt = np.bincount(code, minlength=G).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.bincount(code, x, G) / cnt
        my = np.bincount(code, y, G) / cnt
    dx, dy = x - mx[code], y - my[code]
    sxx, syy, sxy = (np.bincount(code, v, G) for v in (dx * dx, dy * dy, dx * dy))
    theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    c, s = np.cos(theta)[code], np.sin(theta)[code]
    u = dx * c + dy * s  # along the principal axis
    v = -dx * s + dy * c  # across it
    order = np.lexsort((u, code))
    code_o, u_o = code[order], u[order]
    start = np.concatenate(([0], np.cumsum(cnt).astype(np.int64)[:-1]))
    rank = np.arange(len(order)) - start[code_o]  # 0-based position within the target
    left = rank + 1.0  # detections left of a split just after this one
    n = cnt[code_o]
    right = n - left
    csum = np.cumsum(u_o)
    before = np.concatenate(([0.0], csum))[start][code_o]
    s_left = csum - before  # the part's sum of u (the whole target's sum is 0: centred)
    need = np.maximum(min_cluster_detections, np.ceil(min_cluster_fraction * n))
    valid = (left >= need) & (right >= need)
    with np.errstate(invalid="ignore", divide="ignore"):
        # between-part sum of squares: left*right/n * (mean_l - mean_r)^2, mean_r = -s_left/right
        score = np.where(valid, left * right / n * (s_left / left + s_left / right) ** 2, -1.0)
    best = np.lexsort((-score, code_o))  # per target, its best split first
    first = np.ones(len(best), dtype=bool)
    first[1:] = code_o[best][1:] != code_o[best][:-1]
    split_rank = np.full(G, -1)
    pick = best[first]
    has = score[pick] >= 0
    split_rank[code_o[pick][has]] = rank[pick][has]
    label_o = (rank > split_rank[code_o]).astype(np.int64)  # 0: left part, 1: right
    label = np.empty_like(label_o)
    label[order] = label_o
    key = code * 2 + label  # (target, part)
    k = np.bincount(key, minlength=2 * G).astype(float)
    keys = pd.Series(key)
    parts = np.arange(2 * G)
    # part centres: medians (a part cut from a cloud's tail keeps its outliers out of them)
    cx = pd.Series(x).groupby(keys).median().reindex(parts).to_numpy()
    cy = pd.Series(y).groupby(keys).median().reindex(parts).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cu = np.bincount(key, u, 2 * G) / k
        cv = np.bincount(key, v, 2 * G) / k
        ss_across = np.bincount(key, (v - cv[key]) ** 2, 2 * G)
        sigma = np.sqrt((ss_across[0::2] + ss_across[1::2]) / (cnt - 2))
        sep = np.hypot(cx[1::2] - cx[0::2], cy[1::2] - cy[0::2])
        # the gap: detections within a sixth of the parts' distance (along the axis) of the
        # midpoint, over those as near the mean of the sparser part
        width = (np.abs(cu[1::2] - cu[0::2]) / 6)[code]
        mid = ((cu[0::2] + cu[1::2]) / 2)[code]
        n_gap = np.bincount(code, np.abs(u - mid) < width, G)
        n_part = np.minimum(
            np.bincount(code, np.abs(u - cu[0::2][code]) < width, G),
            np.bincount(code, np.abs(u - cu[1::2][code]) < width, G),
        )
        flagged = (
            (split_rank >= 0)
            & (sep >= min_separation_arcsec)
            & (sep >= min_separation_sigma * sigma)
            & (n_gap < max_gap_ratio * n_part)
        )
        frac = np.minimum(k[0::2], k[1::2]) / cnt
    out = pd.DataFrame(
        {
            "second_source": flagged,
            "second_source_sep_arcsec": np.where(flagged, sep, np.nan),
            "second_source_frac": np.where(flagged, frac, np.nan),
        },
        index=pd.Index(ids, name="target_id"),
    )
    return out


def diagnostics(
    lightcurves: pd.DataFrame,
    targets: pd.DataFrame,
    options: dict | None,
    flags: pd.DataFrame | None = None,
    ref_ra=None,
    ref_dec=None,
) -> pd.DataFrame:
    """Every per-target association column (:data:`COLUMNS`), indexed by target id: every
    target of ``targets`` (those without detections have empty statistics and, when the
    second-source test runs, ``second_source`` False).

    Parameters
    ----------
    lightcurves : pandas.DataFrame
        Detections (after the cuts): ``target_id``, ``ra``, ``dec`` (deg).
    targets : pandas.DataFrame
        ``target_id``, ``ra``, ``dec`` (deg): the default references.
    options : dict or None
        The second-source test's settings (:data:`OPTION_KEYS`, config ``association``); None:
        the test is not run (its columns empty).
    flags : pandas.DataFrame, optional
        :func:`flag_fractions` (before the cuts); None: those columns empty.
    ref_ra, ref_dec : array_like, optional
        Each row's reference position (deg); by default the target's position, propagated to
        each row's ``mjd`` for a target with proper motion (:func:`target_references`).
    """
    tid = lightcurves["target_id"].to_numpy(dtype=object)
    if ref_ra is None or ref_dec is None:
        mjd = lightcurves["mjd"] if "mjd" in lightcurves.columns else None
        ref_ra, ref_dec = target_references(tid, targets, mjd)
    east, north = tangent_offsets(lightcurves["ra"], lightcurves["dec"], ref_ra, ref_dec)
    out = position_statistics(tid, east, north)
    if flags is None:
        flags = pd.DataFrame(columns=list(FLAG_COLUMNS), dtype=float)
    out = out.join(flags[list(FLAG_COLUMNS)], how="outer")  # flags count targets cut to nothing
    if options is not None:
        out = out.join(second_source(tid, east, north, **{k: options[k] for k in OPTION_KEYS}))
    else:
        out = out.join(pd.DataFrame(columns=list(SECOND_SOURCE_COLUMNS)))
    ids = pd.Index(pd.unique(np.asarray(targets["target_id"], dtype=object)), name="target_id")
    out = out.reindex(ids.append(out.index.difference(ids)))
    flag = out["second_source"].astype("boolean")
    # the test ran: a target with too few detections to split has no second source
    out["second_source"] = flag.fillna(False) if options is not None else flag
    return out[list(COLUMNS)]
