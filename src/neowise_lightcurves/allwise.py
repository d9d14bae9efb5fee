"""The AllWISE Multiepoch Photometry Table (MEP): WISE's own 2010-2011 exposures in the light
curves.

IRSA's ``allwise_p3as_mep`` holds, for every source of the AllWISE Source Catalog and Reject
Table, the profile-fit fluxes measured on each single exposure (W1-W4) of the cryogenic,
3-band and post-cryogenic survey phases (2010 January 7 to 2011 February 1), forced at the
deep source's position. Its ``ra``/``dec`` are that *source's* position (the same for all its
exposures), not a per-exposure position; its ``_ep`` columns are the per-exposure measurements.

This module holds what the workflow needs of it when it plans a run (Snakemake's parse, the
manifest, the plan): the columns it reads (:data:`MEP_COLUMNS`), their mapping onto the light
curves' standard columns (:data:`RENAMES`), the cache keys of its jobs (:func:`source_key`,
:func:`digest_key`, :func:`check_digest`) and its part of the plan. Matching targets in it
(IRSA's TAP service or a local copy) is :mod:`neowise_lightcurves.allwise_match`'s.
"""

from __future__ import annotations

import logging

from . import motion
from .surveys import MEP_NAME

log = logging.getLogger(__name__)

#: The rows' ``year`` in the caches and light curves (:data:`neowise_lightcurves.surveys.MEP`).
NAME = MEP_NAME
#: MJD span of the MEP's exposures: 2010 January 7 (MJD 55203) to the end of 2011 February 1
#: (MJD 55593, ending at 55594).
MJD_RANGE = motion.YEAR_MJD[NAME]
#: Epoch (MJD) of AllWISE's positions (2010.5589): the MEP's ``ra``/``dec`` of a moving source
#: are where it was then, for every one of its exposures.
EPOCH_MJD = 55400.0

#: Columns of the MEP read here, with their Arrow types (AllWISE Explanatory Supplement
#: III.1.a, and IRSA's answers): the deep source's id, name and position (``cntr_mf``,
#: ``source_id_mf``, ``ra``, ``dec``); the row's own counter ``cntr`` and its exposure
#: (``frame_id``: scan and frame, ``mjd``); W1/W2 profile-fit fluxes (DN) and magnitudes (Vega)
#: on the exposure; the deep source's blending and contamination flags (``nb``, ``na``,
#: ``cc_flags``: the same in all its rows); the exposure's quality (``qi_fact``, ``saa_sep``,
#: ``moon_masked``: a character per band, W1-W4). The MEP has no ``qual_frame``, ``ph_qual``
#: or ``sso_flg``.
MEP_COLUMNS = {
    "cntr_mf": "int64",
    "source_id_mf": "string",
    "cntr": "int64",
    "frame_id": "string",
    "ra": "double",
    "dec": "double",
    "mjd": "double",
    "w1flux_ep": "double",
    "w1sigflux_ep": "double",
    "w2flux_ep": "double",
    "w2sigflux_ep": "double",
    "w1mpro_ep": "double",
    "w1sigmpro_ep": "double",
    "w2mpro_ep": "double",
    "w2sigmpro_ep": "double",
    "w1rchi2_ep": "double",
    "w2rchi2_ep": "double",
    "nb": "int64",
    "na": "int64",
    "cc_flags": "string",
    "qi_fact": "double",
    "saa_sep": "double",
    "moon_masked": "string",
}

#: Light-curve column <- MEP column, where the names differ; ``mjd``, ``ra``, ``dec``, ``nb``,
#: ``na``, ``cc_flags``, ``qi_fact``, ``saa_sep`` and ``moon_masked`` keep their names. The
#: NEOWISE columns the MEP lacks (``qual_frame``, ``ph_qual``, ``sso_flg``, ...) are null in its
#: rows; ``cntr`` is minus the MEP row's ``cntr`` (so it never equals a NEOWISE row's),
#: ``w1snr``/``w2snr`` are flux/uncertainty, as NEOWISE's.
RENAMES = {
    "source_id": "source_id_mf",
    "w1flux": "w1flux_ep",
    "w1sigflux": "w1sigflux_ep",
    "w2flux": "w2flux_ep",
    "w2sigflux": "w2sigflux_ep",
    "w1mpro": "w1mpro_ep",
    "w1sigmpro": "w1sigmpro_ep",
    "w2mpro": "w2mpro_ep",
    "w2sigmpro": "w2sigmpro_ep",
    "w1rchi2": "w1rchi2_ep",
    "w2rchi2": "w2rchi2_ep",
}


#: The MEP's fluxes are kept as the table gives them (DN on AllWISE's Atlas zero points,
#: ``w?mpro_ep + 2.5 log10(w?flux_ep)`` = 20.500 in W1, 19.500 in W2 on IRSA's rows; Explanatory
#: Supplement V.3.b: "the same procedures, zeropoints, and conventions" as the Source Catalog):
#: the light curves put every exposure on one scale of flux densities through its own zero
#: point (:mod:`neowise_lightcurves.photometry`), with no factor between tables.


def mep_schema():
    """Arrow schema of the MEP columns read here (:data:`MEP_COLUMNS`; a local copy's files)."""
    import pyarrow as pa

    return pa.schema([pa.field(n, pa.type_for_alias(t)) for n, t in MEP_COLUMNS.items()])


def mep_column(name: str) -> str | None:
    """The MEP column a catalogue column of the light curves comes from, or None."""
    source = RENAMES.get(name, name)
    return source if source in MEP_COLUMNS else None


#: Light-curve columns the MEP rows get though no MEP column has their name
#: (:func:`to_cache_table`).
DERIVED = ("cntr", "w1snr", "w2snr")


def lacking(columns) -> list[str]:
    """Those of ``columns`` (catalogue columns) that are null in every MEP row."""
    return [c for c in columns if c not in DERIVED and mep_column(c) is None]


def source_key(source: str, tap_url: str, table: str, demo: dict) -> str:
    """What makes MEP matches valid besides the shard's targets (:func:`digest_key`): the
    TAP service and table (``source`` ``"tap"``), the demo's seed and size (``"demo"``; its
    ``demo`` settings), or the local copy's root."""
    if source == "tap":
        return f"tap:{tap_url.rstrip('/')}:{table}"
    if source == "demo":
        return "demo:seed={seed}:field={field_sources}".format(**demo)
    return f"copy:{source.rstrip('/')}"


#: Version of the MEP's cache files: raised when what they hold changes (the mapping, the zero
#: points, the matching), so that older ones are not reused.
CACHE_VERSION = 2


def digest_key(source_key: str) -> str:
    """The catalogue key of a shard's MEP cache digest
    (:func:`~neowise_lightcurves.manifest.shard_digest` of the shard's rows, radius and
    columns with it): the MEP's source (:func:`source_key`) and :data:`CACHE_VERSION`, and not
    the NEOWISE catalogue's root, so moving that reruns no MEP job."""
    return f"allwise-v{CACHE_VERSION}|{source_key}"


def check_digest(rows, shard, digest, radius_arcsec, columns, source_key) -> None:
    """Raise if a shard's rows (from the manifest now) do not give the MEP cache key ``digest``
    a job was started for (:func:`digest_key`): the manifest changed under the job.

    Parameters
    ----------
    rows : pandas.DataFrame
        The shard's (target, partition) rows from the manifest.
    shard, digest : str
        The shard's name and the cache key in the job's output name.
    radius_arcsec : float
        Cone radius (arcsec).
    columns : tuple of str
        The cache's catalogue columns.
    source_key : str
        The MEP's source (:func:`source_key`).
    """
    from .manifest import shard_digest

    now = shard_digest(rows, radius_arcsec, columns, digest_key(source_key))
    if now != digest:
        raise RuntimeError(
            f"shard {shard}: the manifest's targets give AllWISE MEP cache key {now}, not "
            f"{digest}; the manifest changed under this job: rerun the workflow"
        )


def plan_text(
    shards, *, tap_url: str | None = None, copy: str | None = None, max_upload_rows: int
) -> str:
    """The plan's line for the MEP: one job per shard (``shards``, the manifest's) and, through
    the TAP service at ``tap_url``, the upload queries they submit (a shard's targets in jobs
    of at most ``max_upload_rows``); or, from a local ``copy``, its root."""
    jobs = len(shards)
    if tap_url is None:
        return f"AllWISE MEP jobs:        {jobs} (one per shard, from the copy at {copy})\n"
    queries = sum(-(-s.n_targets // max_upload_rows) for s in shards)
    return (
        f"AllWISE MEP jobs:        {jobs} (one per shard; {queries} TAP upload queries of at "
        f"most {max_upload_rows:,} targets to {tap_url})\n"
    )
