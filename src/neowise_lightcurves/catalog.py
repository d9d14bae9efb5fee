"""Catalogue access: where each survey year lives, and listing and opening partition files.

The layout is IRSA's (``s3://nasa-irsa-wise/wise/neowiser/catalogs/p1bs_psd/healpix_k5``)::

    {root}/{year}/neowiser-healpix_k5-{year}.parquet/
        _metadata            schema + row-group statistics of every file (never read here)
        _common_metadata     schema only
        healpix_k0={k0}/healpix_k5={k5}/part0.snappy.parquet   (sometimes part1..., list them)

with ``year`` one of ``year1`` ... ``year11`` or ``addendum``. The same code reads the bucket, a
local mirror, the demo sky, or anything pyarrow's filesystems understand.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .surveys import MEP_NAME

if TYPE_CHECKING:  # pyarrow is imported where it is used: the Snakefile imports this module
    import pyarrow.fs

#: IRSA's bucket, as a ``catalog.root``.
IRSA_ROOT = "s3://nasa-irsa-wise/wise/neowiser/catalogs/p1bs_psd/healpix_k5"


class CatalogError(RuntimeError):
    """The catalogue cannot be listed or read; the message names the path and the reason."""


def explain(err: BaseException) -> str:
    """A short reason for a storage error (AWS SDK messages are long), then the original."""
    text = str(err)
    hints = (
        (
            ("ACCESS_DENIED", "AccessDenied", r"\b403\b"),
            "access denied (403): not readable with "
            "these credentials (catalog.s3.anonymous: true for IRSA's public bucket)",
        ),
        ((r"NoSuchBucket", "NoSuchKey", "RESOURCE_NOT_FOUND", r"\b404\b"), "not found (404)"),
        (
            (
                "NETWORK_CONNECTION",
                "Could not connect",
                "Couldn't connect",
                "resolve host",
                "curlCode",
            ),
            "no network connection to the storage",
        ),
    )
    for needles, hint in hints:  # regular expressions; status codes as whole words only (a
        # port such as 127.0.0.1:40403 in the message is not a 403)
        if any(re.search(n, text) for n in needles):
            return f"{hint} [{text}]"
    return text


#: Survey years the catalogue has.
YEARS = tuple(f"year{i}" for i in range(1, 12)) + ("addendum",)


def year_name(year: int | str) -> str:
    """Folder name of a survey year: ``1`` -> ``"year1"``, ``"addendum"`` -> ``"addendum"``."""
    name = f"year{year}" if isinstance(year, int) or str(year).isdigit() else str(year)
    if name not in YEARS:
        raise ValueError(f"no NEOWISE year {year!r}: years are 1..11 and 'addendum'")
    return name


#: A local copy of the AllWISE Multiepoch Photometry (:mod:`neowise_lightcurves.allwise`; the
#: demo's): its dataset relative to the root, in the same layout with the MEP's column names.
ALLWISE_DATASET = "allwise/allwise_p3as_mep-healpix_k5.parquet"


def year_dataset(year: str) -> str:
    """Path of a year's Parquet dataset relative to the catalogue root (``"allwise"``: a local
    copy of the AllWISE MEP, :data:`ALLWISE_DATASET`)."""
    if year == MEP_NAME:
        return ALLWISE_DATASET
    name = year_name(year)
    return f"{name}/neowiser-healpix_k5-{name}.parquet"


def partition_path(year: str, k5: int) -> str:
    """Leaf folder of one order-5 partition, relative to the catalogue root."""
    from .sky import k0_of

    return f"{year_dataset(year)}/healpix_k0={k0_of(int(k5))}/healpix_k5={int(k5)}"


@dataclass(frozen=True)
class Catalog:
    """An opened catalogue root: a pyarrow filesystem and the base path inside it."""

    filesystem: pyarrow.fs.FileSystem
    base: str
    root: str

    def path(self, relative: str) -> str:
        """Full path (in :attr:`filesystem`) of a path relative to the root."""
        return f"{self.base}/{relative}" if self.base else relative

    def year_exists(self, year: str) -> bool:
        """Whether the year's dataset folder exists."""
        import pyarrow.fs as pafs

        path = self.path(year_dataset(year))
        try:
            info = self.filesystem.get_file_info(path)
        except OSError as err:
            raise CatalogError(
                f"cannot look up {path} under {self.root!r}: {explain(err)}"
            ) from err
        return info.type == pafs.FileType.Directory

    def partition_files(self, year: str, k5: int) -> list[pyarrow.fs.FileInfo]:
        """Data files of one partition in one year, sorted by name; ``[]`` if it has none.

        Every ``*.parquet`` file in the leaf folder is returned: some partitions hold several
        (``part0``, ``part1``, ...). Hidden and underscore files are skipped.
        """
        import pyarrow.fs as pafs

        path = self.path(partition_path(year, k5))
        try:
            infos = self.filesystem.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        except OSError as err:
            raise CatalogError(f"cannot list {path} under {self.root!r}: {explain(err)}") from err
        return sorted(
            (
                i
                for i in infos
                if i.type == pafs.FileType.File
                and i.base_name.endswith(".parquet")
                and not i.base_name.startswith(("_", "."))
            ),
            key=lambda i: i.base_name,
        )


def open_catalog(root: str, *, s3: dict | None = None, workdir: str | None = None) -> Catalog:
    """Open a catalogue root.

    Parameters
    ----------
    root : str
        ``s3://bucket/prefix`` (pyarrow's S3 filesystem, set up from ``s3``), any other URI
        pyarrow understands (``gs://``, ``file://``, ...), or a local folder.
    s3 : dict
        For an ``s3://`` root: the ``catalog.s3`` settings, ``anonymous`` (read without
        credentials: IRSA's bucket is public; ``False``: the usual AWS environment,
        ``AWS_ACCESS_KEY_ID``, profiles, ...), ``region``, ``endpoint_override`` (e.g.
        ``"127.0.0.1:9000"``, or None), ``scheme`` (``"http"`` or ``"https"``) and ``retries``
        (attempts per request, with the AWS SDK's exponential backoff, on throttling, 5xx answers
        and network errors).
    workdir : str, optional
        Folder that a relative local ``root`` is relative to (default: the current folder).
    """
    import pyarrow.fs as pafs

    if root.startswith("s3://"):
        if s3 is None:
            raise ValueError(f"{root!r} is on S3: give its settings (catalog.s3)")
        kwargs = {"anonymous": s3["anonymous"], "region": s3["region"], "scheme": s3["scheme"]}
        if s3["endpoint_override"]:
            kwargs["endpoint_override"] = s3["endpoint_override"]
        fs = pafs.S3FileSystem(
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=s3["retries"]), **kwargs
        )
        return Catalog(fs, root[len("s3://") :].rstrip("/"), root)
    if "://" in root:
        fs, base = pafs.FileSystem.from_uri(root)
        return Catalog(fs, base.rstrip("/"), root)
    base = os.path.abspath(os.path.join(workdir or os.getcwd(), root))
    return Catalog(pafs.LocalFileSystem(), base, root)
