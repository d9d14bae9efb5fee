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
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyarrow is imported where it is used: the Snakefile imports this module
    import pyarrow.fs

#: IRSA's bucket, as a ``catalog.root``.
IRSA_ROOT = "s3://nasa-irsa-wise/wise/neowiser/catalogs/p1bs_psd/healpix_k5"
IRSA_REGION = "us-west-2"


class CatalogError(RuntimeError):
    """The catalogue cannot be listed or read; the message names the path and the reason."""


def explain(err: BaseException) -> str:
    """A short reason for a storage error (AWS SDK messages are long), then the original."""
    text = str(err)
    hints = (
        (
            ("ACCESS_DENIED", "AccessDenied", "403"),
            "access denied (403): not readable with "
            "these credentials (catalog.s3.anonymous: true for IRSA's public bucket)",
        ),
        (("NoSuchBucket", "NoSuchKey", "RESOURCE_NOT_FOUND", "404"), "not found (404)"),
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
    for needles, hint in hints:
        if any(n in text for n in needles):
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


def year_dataset(year: str) -> str:
    """Path of a year's Parquet dataset relative to the catalogue root."""
    name = year_name(year)
    return f"{name}/neowiser-healpix_k5-{name}.parquet"


def partition_path(year: str, k5: int) -> str:
    """Leaf folder of one order-5 partition, relative to the catalogue root."""
    return f"{year_dataset(year)}/healpix_k0={int(k5) // 1024}/healpix_k5={int(k5)}"


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


#: Set to a folder to make every catalogue opened in this process count the bytes it reads and
#: write ``{folder}/{pid}.json`` at exit (``benchmarks/`` uses it).
COUNT_BYTES_ENV = "NEOWISE_LC_COUNT_BYTES"


class ReadCounter:
    """Bytes and files read through :func:`counting_filesystem`."""

    def __init__(self):
        self.bytes = 0
        self.files = 0
        self.reads = 0


class _CountingFile:
    """A file-like wrapper of a pyarrow ``NativeFile`` that counts what is read."""

    def __init__(self, raw, counter: ReadCounter):
        self.raw, self.counter = raw, counter
        self.closed = False

    def read(self, n=-1):
        data = self.raw.read() if n is None or n < 0 else self.raw.read(n)
        self.counter.bytes += len(data)
        self.counter.reads += 1
        return data

    def seek(self, offset, whence=0):
        return self.raw.seek(offset, whence)

    def tell(self):
        return self.raw.tell()

    def size(self):
        return self.raw.size()

    def readable(self):
        return True

    def seekable(self):
        return True

    def writable(self):
        return False

    def close(self):
        self.closed = True
        self.raw.close()


def counting_filesystem(fs, counter: ReadCounter):
    """``fs`` wrapped so that every byte read from an opened input file is counted."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    class Handler(pafs.FileSystemHandler):
        def __eq__(self, other):
            return self is other

        def __ne__(self, other):
            return self is not other

        def get_type_name(self):
            return f"counting+{fs.type_name}"

        def normalize_path(self, path):
            return fs.normalize_path(path)

        def get_file_info(self, paths):
            return fs.get_file_info(paths)

        def get_file_info_selector(self, selector):
            return fs.get_file_info(selector)

        def open_input_file(self, path):
            counter.files += 1
            return pa.PythonFile(_CountingFile(fs.open_input_file(path), counter), mode="r")

        def open_input_stream(self, path):
            return self.open_input_file(path)

        def _read_only(self, *args, **kwargs):
            raise OSError("read-only filesystem")

        create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
        delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only

    return pafs.PyFileSystem(Handler())


def _count_from_environment(catalog: Catalog) -> Catalog:
    folder = os.environ.get(COUNT_BYTES_ENV)
    if not folder:
        return catalog
    import atexit
    import json
    import resource
    import time

    counter = ReadCounter()
    opened = time.time()

    def report():
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{os.getpid()}.json"), "w") as fh:
            json.dump(
                {
                    "bytes": counter.bytes,
                    "files": counter.files,
                    "reads": counter.reads,
                    "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                    "opened": opened,  # epoch seconds: catalogue opened (after imports)
                    "ended": time.time(),
                },
                fh,
            )

    atexit.register(report)
    return Catalog(counting_filesystem(catalog.filesystem, counter), catalog.base, catalog.root)


def open_catalog(
    root: str,
    *,
    anonymous: bool = True,
    region: str = IRSA_REGION,
    endpoint_override: str | None = None,
    scheme: str | None = None,
    retries: int = 6,
    workdir: str | None = None,
) -> Catalog:
    """Open a catalogue root.

    Parameters
    ----------
    root : str
        ``s3://bucket/prefix`` (pyarrow's S3 filesystem; anonymous, ``region``, optional
        ``endpoint_override`` such as ``"127.0.0.1:9000"`` and ``scheme`` ``"http"``), any other
        URI pyarrow understands (``gs://``, ``file://``, ...), or a local folder.
    anonymous : bool
        Read S3 without credentials (IRSA's bucket is public). With ``False`` the usual AWS
        environment (``AWS_ACCESS_KEY_ID``, profiles, ...) is used.
    retries : int
        S3 attempts per request, with the AWS SDK's exponential backoff, on throttling, 5xx
        answers and network errors.
    workdir : str, optional
        Folder that a relative local ``root`` is relative to (default: the current folder).
    """
    import pyarrow.fs as pafs

    if root.startswith("s3://"):
        kwargs = {"anonymous": anonymous, "region": region}
        if endpoint_override:
            kwargs["endpoint_override"] = endpoint_override
        if scheme:
            kwargs["scheme"] = scheme
        fs = pafs.S3FileSystem(
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=retries), **kwargs
        )
        catalog = Catalog(fs, root[len("s3://") :].rstrip("/"), root)
    elif "://" in root:
        fs, base = pafs.FileSystem.from_uri(root)
        catalog = Catalog(fs, base.rstrip("/"), root)
    else:
        base = os.path.abspath(os.path.join(workdir or os.getcwd(), root))
        catalog = Catalog(pafs.LocalFileSystem(), base, root)
    return _count_from_environment(catalog)
