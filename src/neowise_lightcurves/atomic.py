"""Atomic output: write under a temporary name in the same folder, then rename.

A reader (or a resumed run) never sees a half-written file: either the old one, none, or the
whole new one. The file (or folder) renamed into place gets the mode the user's umask gives a
new one, as ``open()`` (``mkdir``) would: ``0o666 & ~umask`` (``0o777 & ~umask``), e.g. 0644
(0755) under umask 022, so collaborators and a shared cache's other users can read it; the
temporary file itself is private (0600) while it is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """This process's umask, read without changing it where Linux tells it (``/proc/self/status``,
    Linux >= 4.7), else by setting and restoring it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o077)  # a private one for the instant it is in place
    os.umask(mask)
    return mask


def _publish_mode(tmp: Path) -> None:
    """Give a finished temporary file or folder the mode a new one gets from the umask."""
    base = 0o777 if tmp.is_dir() else 0o666
    os.chmod(tmp, base & ~current_umask())


def _remove_stale(path: Path) -> None:
    """Remove what an earlier, killed writer of ``path`` left: ``.tmp-{name}-*`` beside it.
    (One job writes one output, so nothing else is writing these.)"""
    for stale in path.parent.glob(f".tmp-{path.name}-*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary name keeps the file's suffix (so writers that pick a format by extension
    still work) and starts with ``.tmp-``. On success the file gets the mode a new file gets
    from the umask (``0o666 & ~umask``), not the temporary file's private 0600. On an
    exception it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".tmp-{path.name}-",
        suffix=suffix if suffix is not None else path.suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        _publish_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` (with the
    mode a new folder gets from the umask; what is written inside has its own)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-", dir=path.parent))
    try:
        yield tmp
        _publish_mode(tmp)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_parquet(table, path: str | os.PathLike, **kwargs) -> None:
    """Write an Arrow table to Parquet atomically (``pyarrow.parquet.write_table`` options)."""
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **kwargs)


def write_frame(frame, path: str | os.PathLike, metadata: dict | None = None, **kwargs) -> None:
    """Write a DataFrame to Parquet atomically, with ``metadata`` (str -> str) in the schema
    (``pyarrow.parquet.write_table`` options in ``kwargs``)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), **{k: str(v) for k, v in metadata.items()}}
        )
    write_parquet(table, path, **kwargs)
