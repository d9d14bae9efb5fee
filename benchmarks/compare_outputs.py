"""Compare two runs' outputs table by table, whatever their layout (one file or a folder of
shard files): the light curves, binned epochs and summary, sorted by target, must be equal
column by column (columns only one side has are listed, not compared).

    python benchmarks/compare_outputs.py RESULTS_A RESULTS_B

Used to check that a change of layout or code path leaves the results as they were, e.g. the
outputs of the previous release against this one's on the demo sky. Exits 1 on a difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

KEYS = {
    "lightcurves": ["target_id", "mjd", "cntr"],
    "binned": ["target_id", "epoch"],
    "summary": ["target_id"],
}


def load(results: Path, name: str) -> pd.DataFrame:
    """The table ``name`` of the run in ``results``, sorted by its keys."""
    frame = pd.read_parquet(results / f"{name}.parquet")
    return frame.sort_values(KEYS[name], kind="stable", ignore_index=True)


def main(argv=None) -> int:
    """Compare the two runs named in ``argv``; 0 when their tables are equal, 1 otherwise."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    failed = False
    for name in KEYS:
        a, b = load(args.a, name), load(args.b, name)
        only_a = [c for c in a.columns if c not in b.columns]
        only_b = [c for c in b.columns if c not in a.columns]
        shared = [c for c in a.columns if c in b.columns]
        try:
            pd.testing.assert_frame_equal(a[shared], b[shared])
            verdict = "identical"
        except AssertionError as err:
            verdict, failed = f"DIFFERENT: {str(err)[:500]}", True
        print(f"{name}: {len(a):,} rows, {len(shared)} columns {verdict}", end="")
        print(f"; only in A: {only_a or '-'}; only in B: {only_b or '-'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
