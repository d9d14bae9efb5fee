"""Counting what a catalogue reads: bytes, files and read calls through a wrapping pyarrow
filesystem. Measurement only: the benchmarks set :data:`COUNT_BYTES_ENV` and each match job then
writes what it read to ``{folder}/{pid}-{n}.json`` at exit (``n``: the catalogue's number in the
process; the one job opens one a year).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import threading

from .catalog import Catalog

#: Set to a folder to make every catalogue opened in this process count the bytes it reads and
#: write ``{folder}/{pid}-{n}.json`` at exit (``benchmarks/`` uses it).
COUNT_BYTES_ENV = "NEOWISE_LC_COUNT_BYTES"
#: Numbers the catalogues a process opens, so that each writes its own record.
_OPENED = itertools.count()


class ReadCounter:
    """Bytes and files read through :func:`counting_filesystem`: :attr:`files` counts each
    file once, however often it is opened (``parquet.open_parquet`` opens one twice at once)."""

    def __init__(self):
        self.bytes = 0
        self.reads = 0
        self.paths: set[str] = set()
        self._lock = threading.Lock()

    @property
    def files(self) -> int:
        return len(self.paths)

    def opened(self, path: str) -> None:
        with self._lock:
            self.paths.add(path)


class _CountingFile:
    """A file-like wrapper of a pyarrow ``NativeFile`` that counts what is read.

    pyarrow reads it at an offset by a seek, then a read: the position is kept per thread, so
    that threads reading at once (``neowise_lightcurves.ranged``) do not move each other's.
    """

    def __init__(self, raw, counter: ReadCounter):
        self.raw, self.counter = raw, counter
        self.closed = False
        self._where = threading.local()
        self._lock = threading.Lock()

    @property
    def _position(self) -> int:
        return getattr(self._where, "position", 0)

    def read(self, n=-1):
        start = self._position
        if n is None or n < 0:
            n = self.raw.size() - start
        data = self.raw.read_at(n, start)
        self._where.position = start + len(data)
        with self._lock:
            self.counter.bytes += len(data)
            self.counter.reads += 1
        return data

    def seek(self, offset, whence=0):
        base = {0: 0, 1: self._position, 2: self.raw.size()}[whence]
        self._where.position = base + offset
        return self._where.position

    def tell(self):
        return self._position

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
            counter.opened(path)
            return pa.PythonFile(_CountingFile(fs.open_input_file(path), counter), mode="r")

        def open_input_stream(self, path):
            return self.open_input_file(path)

        def _read_only(self, *args, **kwargs):
            raise OSError("read-only filesystem")

        create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
        delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only

    return pafs.PyFileSystem(Handler())


def from_environment(catalog: Catalog) -> Catalog:
    """``catalog`` counting its reads when :data:`COUNT_BYTES_ENV` names a folder (else as is)."""
    folder = os.environ.get(COUNT_BYTES_ENV)
    if not folder:
        return catalog
    import atexit
    import json
    import resource
    import time

    counter = ReadCounter()
    opened = time.time()
    record = os.path.join(folder, f"{os.getpid()}-{next(_OPENED)}.json")

    def report():
        os.makedirs(folder, exist_ok=True)
        with open(record, "w") as fh:
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
    return dataclasses.replace(catalog, filesystem=counting_filesystem(catalog.filesystem, counter))
