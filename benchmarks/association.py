"""The second-source test on synthetic targets: false flags on clean ones, the share of planted
neighbours found, and the cost of the association diagnostics on a full batch.

    python benchmarks/association.py                 # ~30 s
    python benchmarks/association.py --clean 5000    # more clean targets

Synthetic detections: each target has its own per-coordinate scatter (uniform in a range), each
detection's scatter log-normal about it (30 %), 3 % outliers at 4x, a mild anisotropy (axis
ratio 1-1.69); a planted neighbour gives 30-50 % of the detections (comparable brightness, both
detected in some exposures each) at 1, 2 or 3 arcsec. Settings: config.yaml's ``association``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from neowise_lightcurves import association

REPO = Path(__file__).resolve().parents[1]


def synthetic(rng, n_targets, n_range, sigma_range, neighbour_arcsec=0.0, fraction=(0.3, 0.5)):
    """Offsets (arcsec) of the detections of ``n_targets`` targets: target index, east, north."""
    tid, xs, ys = [], [], []
    for t in range(n_targets):
        n = int(np.exp(rng.uniform(np.log(n_range[0]), np.log(n_range[1]))))
        s = rng.uniform(*sigma_range) * np.exp(rng.normal(0, 0.3, n))
        axis = rng.uniform(1, 1.3)
        x, y = rng.normal(0, 1, n) * s * axis, rng.normal(0, 1, n) * s / axis
        out = rng.random(n) < 0.03
        x[out] *= 4
        y[out] *= 4
        if neighbour_arcsec:
            near = rng.random(n) < rng.uniform(*fraction)
            pa = rng.uniform(0, 2 * np.pi)
            x[near] += neighbour_arcsec * np.sin(pa)
            y[near] += neighbour_arcsec * np.cos(pa)
        tid.append(np.full(n, t))
        xs.append(x)
        ys.append(y)
    return np.concatenate(tid), np.concatenate(xs), np.concatenate(ys)


def main(argv=None) -> dict:
    """Run the benchmark with the command line ``argv``; print and return its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", type=int, default=1000, help="clean targets per case")
    parser.add_argument("--planted", type=int, default=1000, help="planted targets per case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--batch-targets", type=int, default=20_000, help="targets of the cost's batch (20,000)"
    )
    parser.add_argument(
        "--batch-rows", type=int, default=500_000, help="detections of the cost's batch (500,000)"
    )
    args = parser.parse_args(argv)
    options = yaml.safe_load((REPO / "config.yaml").read_text())["association"]
    rng = np.random.default_rng(args.seed)
    print(f"settings: {options}")
    print("case | targets | detections each | scatter (arcsec) | flagged | separation (median)")
    print("---|---|---|---|---|---")
    cases = [
        ("clean", 0.0, (10, 600), (0.15, 1.0)),
        ("clean, bright", 0.0, (50, 600), (0.15, 0.35)),
    ]
    for sep in (1.0, 2.0, 3.0):
        cases.append((f'neighbour at {sep:g}"', sep, (50, 600), (0.15, 0.35)))
    for sep in (1.0, 2.0, 3.0):
        cases.append((f'neighbour at {sep:g}"', sep, (20, 600), (0.15, 0.5)))
    found = []
    for name, sep, n_range, sigma in cases:
        n_targets = args.clean if sep == 0 else args.planted
        tid, x, y = synthetic(rng, n_targets, n_range, sigma, sep)
        got = association.second_source(tid, x, y, **options)
        flagged = got["second_source"]
        print(
            f"{name} | {n_targets} | {n_range[0]}-{n_range[1]} | {sigma[0]}-{sigma[1]} | "
            f"{int(flagged.sum())} ({flagged.mean():.1%}) | "
            f"{got['second_source_sep_arcsec'].median():.2f}"
        )
        found.append({"case": name, "targets": n_targets, "flagged": int(flagged.sum())})
    # cost on a full batch: 20,000 targets, 500,000 detections by default
    n_targets, n_rows = args.batch_targets, args.batch_rows
    tid = np.sort(rng.integers(0, n_targets, n_rows))
    ra0 = rng.uniform(0, 360, n_targets)
    dec0 = np.degrees(np.arcsin(rng.uniform(-1, 1, n_targets)))
    lc = pd.DataFrame(
        {
            "target_id": np.char.add("T", tid.astype(str)).astype(object),
            "ra": (ra0[tid] + rng.normal(0, 0.3 / 3600, n_rows) / np.cos(np.radians(dec0[tid])))
            % 360,
            "dec": np.clip(dec0[tid] + rng.normal(0, 0.3 / 3600, n_rows), -90, 90),
            "cntr": np.arange(n_rows),
            "nb": rng.choice([1, 2], n_rows, p=[0.95, 0.05]),
            "na": rng.choice([0, 1], n_rows, p=[0.97, 0.03]),
            "cc_flags": rng.choice(["0000", "d000"], n_rows, p=[0.9, 0.1]),
        }
    )
    targets = pd.DataFrame(
        {"target_id": np.char.add("T", np.arange(n_targets).astype(str)), "ra": ra0, "dec": dec0}
    )
    t0 = time.perf_counter()
    flags = association.flag_fractions(lc, targets)
    t1 = time.perf_counter()
    summary = association.diagnostics(lc, targets, options, flags)
    t2 = time.perf_counter()
    print(
        f"\n{n_rows:,} detections of {n_targets:,} targets: flag fractions {t1 - t0:.2f} s, "
        f"offsets, statistics and the second-source test {t2 - t1:.2f} s "
        f"({(t2 - t0) / n_targets * 1e6:.0f} us a target in all)"
    )
    return {"cases": found, "batch_rows": len(summary), "batch_columns": list(summary.columns)}


if __name__ == "__main__":
    main()
