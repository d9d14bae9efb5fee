"""Quality cuts: a row filter in pandas query syntax over catalogue columns.

For example ``"cc_flags == '0000' and qi_fact >= 1"``; ``""`` keeps every row. Parsing needs only
the standard library, so the Snakefile checks the cuts (and learns which columns they use) at
no cost.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from . import columns as cols

if TYPE_CHECKING:
    import pandas as pd

#: Named cuts: IRSA's notebook's, and timewise's defaults.
PRESETS = {
    "notebook": "cc_flags == '0000'",
    "timewise": (
        "nb < 2 and na < 1 and cc_flags.str.startswith('00') and qi_fact >= 1 "
        "and saa_sep >= 5 and moon_masked.str.startswith('00')"
    ),
    "none": "",
}


def expression(cuts: str) -> str:
    """The query a cuts setting stands for: a preset's (``notebook``, ``timewise``, ``none``)
    or the setting itself."""
    return PRESETS.get(cuts.strip(), cuts) if cuts else ""


#: Names allowed in cuts besides catalogue columns.
_CUT_EXTRA_NAMES = {"target_id", "dist_arcsec", "year"}


class CutsError(ValueError):
    """Cuts that cannot be parsed or that name unknown columns."""


def cut_names(cuts: str) -> tuple[str, ...]:
    """Every name a cuts expression uses: catalogue columns and ``target_id``, ``dist_arcsec``,
    ``year`` (``""`` -> none).

    Raises
    ------
    CutsError
        The expression does not parse, or names something that is no catalogue column.
    """
    cuts = expression(cuts)
    if not cuts or not cuts.strip():
        return ()
    try:
        tree = ast.parse(cuts.replace("`", ""), mode="eval")
    except SyntaxError as err:
        raise CutsError(f"match.cuts {cuts!r} is not a valid pandas query: {err.msg}") from err
    known = set(cols.column_names()) | _CUT_EXTRA_NAMES
    functions = {
        id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)
    }  # abs(...), log10(...): pandas' functions, not columns
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in functions and node.id not in names:
            names.append(node.id)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CutsError(
            f"match.cuts {cuts!r} names unknown column(s): {', '.join(unknown)} "
            "(use catalogue column names, see columns.tsv)"
        )
    return tuple(names)


def cut_columns(cuts: str) -> tuple[str, ...]:
    """Catalogue column names a cuts expression uses (:func:`cut_names` less ``target_id``,
    ``dist_arcsec``, ``year``)."""
    return tuple(n for n in cut_names(cuts) if n not in _CUT_EXTRA_NAMES)


def cut_mask(frame: pd.DataFrame, cuts: str):
    """Boolean numpy array: which rows of ``frame`` pass ``cuts`` (a missing value fails)."""
    import numpy as np
    import pandas as pd

    cuts = expression(cuts)
    if not cuts or not cuts.strip():
        return np.ones(len(frame), dtype=bool)
    try:
        mask = frame.eval(cuts, engine="python")
    except Exception as err:
        raise CutsError(f"match.cuts {cuts!r} failed on the matches: {err}") from err
    if not isinstance(mask, pd.Series) or not pd.api.types.is_bool_dtype(mask.dtype):
        raise CutsError(f"match.cuts {cuts!r} does not give True/False for each row")
    return mask.fillna(False).to_numpy(dtype=bool)
