"""Snakemake's own process without pandas.

Snakemake 9 imports pandas into its own process (~0.3 CPU-s) for any rule with ``params:``,
only to ask whether a param is a pandas object: when it checks whether a job's params changed
(``persistence.PersistenceBase._serialize_param``, while it builds the DAG, before the first job
starts) and when it hands a ``script:`` job its params (``iocontainers.Snakemake.
_safely_store_params``). No value can be a pandas object while pandas is not imported, so
:func:`check_params_without_importing_pandas` makes both look at pandas only where it is
imported already: the same answers, without the import. The Snakefile calls it; this
workflow's own code in Snakemake's process (the Snakefile, the rules' input functions) imports
no pandas. Where Snakemake's SLURM executor plugin is installed, it imports pandas itself at
every start of Snakemake, and nothing is spared.

Measured (benchmarks/README.md, "Snakemake's process without pandas"): ~0.2 s of wall time and
of CPU less in every run, before its first job starts.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from collections.abc import Iterator

#: The module Snakemake's checks import without needing it.
PANDAS = "pandas"


class _RefusePandas:
    """An import finder that refuses :data:`PANDAS` to the threads inside
    :func:`pandas_refused`, as if it were not installed; every other import, and every other
    thread's, goes on as usual. One is installed for good, on first use: ``sys.meta_path`` is
    not changed while other threads may be walking it in their imports."""

    def __init__(self):
        self.refusing = threading.local()

    def find_spec(self, name, path=None, target=None):
        if name == PANDAS and getattr(self.refusing, "on", False):
            raise ModuleNotFoundError(f"No module named {PANDAS!r} (not imported)", name=PANDAS)
        return None


_REFUSE = _RefusePandas()
_INSTALL = threading.Lock()


@contextlib.contextmanager
def pandas_refused() -> Iterator[None]:
    """Within it, ``import pandas`` in this thread raises :class:`ModuleNotFoundError` where
    pandas is not imported yet (and so does ``importlib.util.find_spec("pandas")``); where it
    is, the import gives it as usual. Other threads are not affected."""
    with _INSTALL:
        if _REFUSE not in sys.meta_path:
            sys.meta_path.insert(0, _REFUSE)
    before = getattr(_REFUSE.refusing, "on", False)
    _REFUSE.refusing.on = True
    try:
        yield
    finally:
        _REFUSE.refusing.on = before


def _pandas_imported() -> bool:
    return sys.modules.get(PANDAS) is not None


def check_params_without_importing_pandas() -> bool:
    """Make Snakemake's checks of rules' params look at pandas only where it is imported.

    - ``PersistenceBase._serialize_param`` (how a param is recorded, to tell whether it changed):
      Snakemake chooses once, by whether pandas is installed, between a serializer that hashes
      pandas objects (importing pandas) and one for built-in values; here the choice is made at
      each call, by whether pandas is imported. A param that is a pandas object has imported
      pandas, so it is hashed as before.
    - ``Snakemake._safely_store_params`` (a ``script:`` job's params, with pandas, numpy and
      polars objects turned into plain values for the script): runs with pandas refused to it
      where not imported (:func:`pandas_refused`), which it takes as pandas not installed.

    Safe to call more than once. Returns whether both were found: False on a Snakemake whose
    internals differ, which then imports pandas as before.
    """
    try:
        from snakemake import persistence
        from snakemake.iocontainers import Snakemake
    except ImportError:
        return False
    # the class every persistence backend derives from (9.x: PersistenceBase)
    Persistence = getattr(persistence, "PersistenceBase", None) or getattr(
        persistence, "Persistence", None
    )
    if Persistence is None:
        return False
    store = getattr(Snakemake, "_safely_store_params", None)
    serialize = Persistence.__dict__.get("_serialize_param")
    needed = ("_serialize_param_pandas", "_serialize_param_builtin")
    if store is None or not isinstance(serialize, property):
        return False
    if not all(hasattr(Persistence, name) for name in needed):
        return False
    if getattr(store, "without_importing_pandas", False):
        return True

    @functools.wraps(store)
    def store_params(self, params):
        if _pandas_imported():
            return store(self, params)
        with pandas_refused():
            return store(self, params)

    store_params.without_importing_pandas = True
    Snakemake._safely_store_params = store_params

    def serialize_param(self):
        if _pandas_imported():
            return self._serialize_param_pandas
        return self._serialize_param_builtin

    Persistence._serialize_param = property(serialize_param)
    return True
