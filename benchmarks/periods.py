"""Cost of one target's period search (``periods.best_period``) on NEOWISE-like cadences, and
of astropy's periodogram methods over the same grid.

    python benchmarks/periods.py                                  # ~1 min
    python benchmarks/periods.py --cadences 11:24 --grids 7.5:3   # one case
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from astropy.timeseries import LombScargle

from neowise_lightcurves import periods

ORBIT = 94.6 / 1440.0  # d


def cadence(rng, years: int, exposures: int) -> np.ndarray:
    """Two visits a year ~182.6 d apart, ``exposures`` one orbit apart (d)."""
    t = []
    for y in range(years):
        for v in range(2):
            start = 56700.0 + 365.25 * y + 182.6 * v + rng.uniform(-3, 3)
            t.append(start + ORBIT * np.arange(exposures))
    return np.concatenate(t)


def timed(fn, *args, repeats: int = 1, **kw) -> float:
    """Mean wall time (s) of ``fn(*args, **kw)``."""
    start = time.perf_counter()
    for _ in range(repeats):
        fn(*args, **kw)
    return (time.perf_counter() - start) / repeats


def pair(text: str) -> tuple[float, float]:
    """``a:b`` as two numbers (an argparse type)."""
    a, b = text.split(":")
    return float(a), float(b)


def main(argv=None) -> list[dict]:
    """Run the benchmark with the command line ``argv``; print and return one row a case."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--cadences",
        type=pair,
        nargs="+",
        default=[(3, 12), (3, 36), (11, 24)],
        help="years:exposures a visit (default 3:12 3:36 11:24)",
    )
    ap.add_argument(
        "--grids",
        type=pair,
        nargs="+",
        default=[(7.5, 5), (7.5, 3), (10.0, 5)],
        help="highest frequency (1/d):oversampling (default 7.5:5 7.5:3 10:5)",
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rows = []
    for years, exposures in args.cadences:
        t = cadence(rng, int(years), int(exposures))
        dy = np.full(len(t), 5.0)
        y = rng.normal(100, 5, len(t))
        for fmax, oversampling in args.grids:
            f = periods.frequency_grid(t.max() - t.min(), fmax, oversampling)
            ls = LombScargle(t, y, dy)
            fasper = {"algorithm": "fasper"}
            row = {
                "fast lra (astropy default)": timed(ls.power, f, method="fast"),
                "fast fasper": timed(ls.power, f, method="fast", method_kwds=fasper),
            }
            if len(t) * len(f) < 5e7:
                row["cython (exact)"] = timed(ls.power, f, method="cython")
            search = (t, y, dy, fmax, oversampling, 0.5)
            row["best_period"] = timed(periods.best_period, *search, repeats=3)
            rows.append({"exposures": len(t), "frequencies": len(f), **row})
            print(
                f"{years:g} yr, {len(t)} exposures, to {fmax}/d, oversampling {oversampling}: "
                f"{len(f)} frequencies; "
                + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in row.items())
            )
    return rows


if __name__ == "__main__":
    main()
