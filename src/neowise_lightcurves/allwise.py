"""The AllWISE Multiepoch Photometry Table (MEP): WISE's own 2010-2011 exposures in the light
curves.

IRSA's ``allwise_p3as_mep`` holds, for every source of the AllWISE Source Catalog and Reject
Table, the profile-fit fluxes measured on each single exposure (W1-W4) of the cryogenic,
3-band and post-cryogenic survey phases (2010 January 7 to 2011 February 1), forced at the
deep source's position. Its ``ra``/``dec`` are that *source's* position (the same for all its
exposures), not a per-exposure position; its ``_ep`` columns are the per-exposure measurements.

This module holds what the workflow needs of it: the columns it reads (:data:`MEP_COLUMNS`),
their mapping onto the light curves' standard columns (:data:`RENAMES`,
:func:`to_cache_table`), one row per exposure (:func:`one_row_per_exposure`), the match of a
shard's targets through IRSA's TAP service (:func:`match_tap`) or through a local copy in the
NEOWISE layout (:func:`match_local`, the demo's), each a coarse step and the exact great-circle
test of :class:`~neowise_lightcurves.matching.Cones`.
"""

from __future__ import annotations

import hashlib
import logging

from . import motion
from .catalog import ALLWISE_DATASET

log = logging.getLogger(__name__)

#: The rows' ``year`` in the caches and light curves (a pseudo-year beside ``year1`` ...).
NAME = "allwise"
#: IRSA's TAP table.
TABLE = "allwise_p3as_mep"
#: IRSA's TAP service.
TAP_URL = "https://irsa.ipac.caltech.edu/TAP"
#: MJD span of the MEP's exposures: 2010 January 7 (MJD 55203) to 2011 February 1 (55593).
MJD_RANGE = motion.YEAR_MJD[NAME]
#: Dataset of a local copy, relative to its root (the NEOWISE layout: HEALPix order-5
#: partitions ``healpix_k0=../healpix_k5=../*.parquet`` with the MEP's column names).
DATASET = ALLWISE_DATASET

#: Columns of the MEP read here, with their Arrow types (IRSA's column descriptions, AllWISE
#: Explanatory Supplement III.1.a): the deep source's id, name and position; each exposure's
#: time, W1/W2 profile-fit fluxes (DN) and magnitudes (Vega); the deep source's blending and
#: contamination flags; the exposure's quality.
MEP_COLUMNS = {
    "cntr_mf": "int64",
    "source_id_mf": "string",
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
#: rows; ``cntr`` is made per row (:func:`exposure_ids`), ``w1snr``/``w2snr`` are
#: flux/uncertainty, as NEOWISE's.
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


#: Zero points of the MEP's photometry (mag): ``w?mpro_ep = ZP - 2.5 log10(w?flux_ep)`` with the
#: flux in DN of the single-exposure (L1b) frames. The light curves carry fluxes on NEOWISE's
#: scale (:data:`neowise_lightcurves.photometry.ZERO_POINT`): :func:`to_cache_table` multiplies
#: the MEP's by ``10 ** (0.4 (ZP_NEOWISE - ZP_MEP))``.
ZERO_POINT = {"w1": 20.752, "w2": 19.596}


def mep_schema():
    """Arrow schema of the MEP columns read here (:data:`MEP_COLUMNS`; a local copy's files)."""
    import pyarrow as pa

    return pa.schema([pa.field(n, pa.type_for_alias(t)) for n, t in MEP_COLUMNS.items()])


def mep_column(name: str) -> str | None:
    """The MEP column a catalogue column of the light curves comes from, or None."""
    source = RENAMES.get(name, name)
    return source if source in MEP_COLUMNS else None


def cache_digest(shard_digest: str, source_key: str) -> str:
    """Cache key of a shard's MEP job: the shard's own (its targets, radius, columns,
    catalogue: :func:`~neowise_lightcurves.manifest.shard_digest`) and the MEP's source
    (``source_key``: the TAP service and table, or the local copy)."""
    return hashlib.sha256(f"{shard_digest}|{source_key}".encode()).hexdigest()[:12]
