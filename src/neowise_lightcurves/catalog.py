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
from collections.abc import Iterable
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


#: From this many partitions of one order-0 pixel, a match job lists the pixel's folder
#: (``healpix_k0={k0}/``, every partition under it at once) instead of each partition's. On
#: IRSA's bucket that listing is ~2 pages of S3's 1,000 keys (1,024 partitions, a file or more
#: each), asked one after the other: from 8 partitions it takes fewer requests than listing them
#: one by one, and no more round trips than listing them 4 at a time (``concurrent_partitions``'
#: default). The notebook's sample (1,830 targets on ~1,900 partitions) then lists a year in
#: ~24 requests, not ~1,900.
WHOLE_K0_FROM = 8

#: Keys in a page of an S3 listing (ListObjectsV2's most, what pyarrow asks for).
LISTING_PAGE_KEYS = 1000


def listing_units(k5s: Iterable[int], whole_k0_from: int | None = None) -> list[tuple[int, ...]]:
    """The listings that find the files of the order-5 partitions ``k5s``: the partitions of an
    order-0 pixel together, in one listing of its folder, where at least ``whole_k0_from``
    (default :data:`WHOLE_K0_FROM`) of them are asked for; otherwise each partition alone.
    Each unit is sorted, and units are in order of their first partition."""
    from .sky import k0_of

    by_k0: dict[int, list[int]] = {}
    for k5 in sorted({int(k) for k in k5s}):
        by_k0.setdefault(int(k0_of(k5)), []).append(k5)
    units: list[tuple[int, ...]] = []
    least = WHOLE_K0_FROM if whole_k0_from is None else whole_k0_from
    for members in by_k0.values():
        if len(members) >= least:
            units.append(tuple(members))
        else:
            units += [(k5,) for k5 in members]
    return sorted(units)


def _is_data_file(info) -> bool:
    """A partition's data file: a ``*.parquet`` file, not hidden nor ``_``-prefixed."""
    import pyarrow.fs as pafs

    return (
        info.type == pafs.FileType.File
        and info.base_name.endswith(".parquet")
        and not info.base_name.startswith(("_", "."))
    )


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
        return sorted((i for i in infos if _is_data_file(i)), key=lambda i: i.base_name)

    def list_partitions(
        self, year: str, k5s: tuple[int, ...]
    ) -> tuple[dict[int, list[pyarrow.fs.FileInfo]], int]:
        """The data files of each partition of one :func:`listing_units` unit in one year, as
        :meth:`partition_files` finds them, and the listing requests that took.

        One partition is listed alone (one request). Several, all of one order-0 pixel, are
        found in one listing of the pixel's folder, every file under it (an S3 listing without
        delimiter: one request a page of :data:`LISTING_PAGE_KEYS` keys); files not directly in
        a leaf folder asked for are left out.
        """
        import pyarrow.fs as pafs

        from .sky import k0_of

        if len(k5s) == 1:
            return {k5s[0]: self.partition_files(year, k5s[0])}, 1
        if len({int(k0_of(k)) for k in k5s}) != 1:
            raise ValueError(f"partitions {k5s} are not all in one order-0 pixel")
        folder = self.path(partition_path(year, k5s[0])).rsplit("/", 1)[0]
        try:
            infos = self.filesystem.get_file_info(
                pafs.FileSelector(folder, allow_not_found=True, recursive=True)
            )
        except OSError as err:
            raise CatalogError(f"cannot list {folder} under {self.root!r}: {explain(err)}") from err
        keys = sum(1 for i in infos if i.type == pafs.FileType.File)
        leaves = {f"{folder}/healpix_k5={k5}": k5 for k5 in k5s}
        found: dict[int, list] = {k5: [] for k5 in k5s}
        for info in infos:
            if info.path in leaves and info.type != pafs.FileType.Directory:
                # as listing it alone would: a partition's leaf that is not a folder is an error
                raise CatalogError(f"cannot list {info.path} under {self.root!r}: not a folder")
            k5 = leaves.get(info.path.rsplit("/", 1)[0])
            if k5 is not None and _is_data_file(info):
                found[k5].append(info)
        for files in found.values():
            files.sort(key=lambda i: i.base_name)
        return found, max(1, -(-keys // LISTING_PAGE_KEYS))


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
