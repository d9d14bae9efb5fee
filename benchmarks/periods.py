"""Cost of one target's period search (``periods.best_period``) on NEOWISE-like cadences, and
of astropy's periodogram methods over the same grid: ``python benchmarks/periods.py`` (~1 min)."""

from __future__ import annotations

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


def main() -> None:
    rng = np.random.default_rng(1)
    for years, exposures in ((3, 12), (3, 36), (11, 24)):
        t = cadence(rng, years, exposures)
        dy = np.full(len(t), 5.0)
        y = rng.normal(100, 5, len(t))
        for fmax, oversampling in ((7.5, 5), (7.5, 3), (10.0, 5)):
            f = periods.frequency_grid(t.max() - t.min(), fmax, oversampling)
            ls = LombScargle(t, y, dy)
            fasper = {"algorithm": "fasper"}
            row = {
                "fast lra (astropy default)": timed(ls.power, f, method="fast"),
                "fast fasper": timed(ls.power, f, method="fast", method_kwds=fasper),
            }
            if len(t) * len(f) < 5e7:
                row["cython (exact)"] = timed(ls.power, f, method="cython")
            args = (t, y, dy, fmax, oversampling, 0.5)
            row["best_period"] = timed(periods.best_period, *args, repeats=3)
            print(
                f"{years} yr, {len(t)} exposures, to {fmax}/d, oversampling {oversampling}: "
                f"{len(f)} frequencies; "
                + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in row.items())
            )


if __name__ == "__main__":
    main()
