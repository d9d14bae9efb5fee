"""Where a light curve's epochs come from: a NEOWISE year (``year1`` ... ``year11``,
``addendum``) or the AllWISE Multiepoch Photometry (``allwise``, WISE's 2010-2011 exposures).

Each is a *survey* here, named as the rows' ``year`` column, the cache's folders and the
configuration's years read name it. The cache, the costs, the one-job run, fetch(), the
association test and the figures ask a survey what it is (:func:`of`) rather than compare
names: whether a match job reads it from the catalogue's partitions or from the MEP, which rule
writes its cache files, which key names them, and whether they get a columns file beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .manifest import Shard

#: The AllWISE MEP's name in the rows' ``year`` column and the cache's folders.
MEP_NAME = "allwise"


@dataclass(frozen=True)
class Survey:
    """A source of epochs: a NEOWISE year, or the AllWISE MEP (``mep``)."""

    #: as the rows' ``year`` column names it (``"year1"``, ``"addendum"``, ``"allwise"``)
    name: str
    #: the AllWISE MEP, matched by its own jobs (TAP or a local copy), not a NEOWISE year
    mep: bool

    @property
    def match_rule(self) -> str:
        """The rule whose jobs write this survey's match cache files."""
        from .cache import MATCH_RULE, MEP_RULE

        return MEP_RULE if self.mep else MATCH_RULE

    @property
    def columns_files(self) -> bool:
        """Whether its match files get columns files beside them (the cuts' and
        ``extra_columns``' other columns, read later): NEOWISE years only, since a MEP job
        reads every column the light curves hold at once."""
        return not self.mep

    def digest(self, shard: Shard) -> str:
        """The digest in a shard's cache file's name for this survey: the shard's, or its
        MEP digest (:class:`~neowise_lightcurves.manifest.Shard`)."""
        if not self.mep:
            return shard.digest
        if not shard.allwise_digest:
            raise ValueError(
                f"shard {shard.shard} has no AllWISE MEP cache key: the manifest was made with "
                "catalog.allwise_mep off"
            )
        return shard.allwise_digest


#: The AllWISE MEP.
MEP = Survey(MEP_NAME, mep=True)


def of(name: str) -> Survey:
    """The survey named ``name`` (a year's name, e.g. ``"year3"``, or ``"allwise"``)."""
    return MEP if name == MEP_NAME else Survey(name, mep=False)


def neowise(names: Iterable[str]) -> list[str]:
    """The NEOWISE years among ``names``, in order."""
    return [n for n in names if not of(n).mep]


def mep_rows(year_values):
    """Which rows are the MEP's, from their ``year`` values (an Arrow array or chunked
    array, a pandas Series of any string dtype, or an array): a boolean numpy array, null
    years not the MEP's. (Its imports are its own: this module is read when Snakemake parses
    the workflow, which imports no table library.)"""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(year_values, pa.Array | pa.ChunkedArray):
        found = pc.fill_null(pc.equal(year_values, MEP_NAME), False)
        return found.to_numpy(zero_copy_only=False).astype(bool)
    if isinstance(year_values, pd.Series):
        return year_values.eq(MEP_NAME).fillna(False).to_numpy(dtype=bool)
    return np.asarray(year_values, dtype=object) == MEP_NAME
