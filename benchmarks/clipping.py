"""Sigma clipping of a visit's exposures (``binning.clip_mask``) on simulated Gaussian visits.

``python benchmarks/clipping.py`` (~45 s on 2 cores): for visits of n = 2..50 (and a few larger)
exposures of pure Gaussian noise (sigma 1), the percentage of exposures rejected by the rule
``clip_mask`` applied until issue 23 (the median and the MAD re-estimated from the kept values
each round, the cut at ``sigma`` x 1.4826 MAD; kept below as ``old_clip_mask``) and by the
current one; then, with one or two outliers planted in each visit at +10 or +5 noise sigma,
the percentage of them removed. All visits of a run go through one call, as in the workflow.

``python benchmarks/clipping.py --calibrate``: simulates the quantiles of
|x - median| / (1.4826 MAD) in Gaussian samples of each n at the tail probabilities of
sigma = 2, 2.5, ..., 5 and fits ``binning.clip_limit``'s model to them (least squares in log
threshold, Nelder-Mead), printing ``CLIP_DOF``, ``CLIP_SCALE`` and ``CLIP_SMALL_N``. The
numbers in ``binning`` came from ``--samples 1e8`` (~30 min); the default 1e7 (~2 min) moves
the individual constants (they are correlated) but the thresholds by < 1 % at sigma 3, n >= 5,
and < 4 % at sigma 2-4.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from neowise_lightcurves import binning

SIZES = [*range(2, 51), 60, 80, 100, 150, 200]


def old_clip_mask(values: pd.Series, groups: np.ndarray, sigma: float, iterations: int):
    """The rule clip_mask applied until issue 23: iterative median/MAD clipping at k = sigma,
    the MAD re-estimated from the kept values each round."""
    keep = values.notna().to_numpy()
    v = values.to_numpy(dtype=float)
    for _ in range(iterations):
        kept = pd.Series(np.where(keep, v, np.nan))
        med = kept.groupby(groups).transform("median").to_numpy()
        dev = np.abs(v - med)
        mad = pd.Series(np.where(keep, dev, np.nan)).groupby(groups).transform("median").to_numpy()
        width = sigma * binning.MAD_TO_SIGMA * mad
        new = keep & ((dev <= width) | ~(width > 0))
        if (new == keep).all():
            break
        keep = new
    return keep


def visits(rng, sizes, per_size, planted=0, amplitude=0.0):
    """Gaussian visits (sigma 1): ``per_size[i]`` visits of ``sizes[i]`` values each, the first
    ``planted`` values of each visit moved by +``amplitude``. Returns values, group numbers,
    each row's visit size, and whether it was planted."""
    n_row = np.repeat(sizes, np.asarray(per_size) * np.asarray(sizes))
    groups = np.repeat(np.arange(int(np.sum(per_size))), np.repeat(sizes, per_size))
    first = np.flatnonzero(np.diff(groups, prepend=-1))
    rank = np.arange(len(groups)) - np.repeat(first, np.diff(np.append(first, len(groups))))
    values = rng.standard_normal(len(groups))
    is_planted = rank < planted
    values[is_planted] += amplitude
    return pd.Series(values), groups, n_row, is_planted


def rejected_by_size(keep, n_row, rows):
    """Percentage of ``rows`` not kept, by visit size."""
    df = pd.DataFrame({"n": n_row[rows], "out": ~keep[rows]})
    return 100 * df.groupby("n")["out"].mean()


def table(args) -> pd.DataFrame:
    """Print (Markdown) and return the percentages rejected by visit size n."""
    rng = np.random.default_rng(args.seed)
    sizes = np.array(args.sizes)
    rules = {
        "old": lambda v, g: old_clip_mask(v, g, args.sigma, args.iterations),
        "new": lambda v, g: binning.clip_mask(v, g, args.sigma, args.iterations),
    }
    cols = {}
    per = np.ceil(args.exposures / sizes).astype(int)
    v, g, n_row, _ = visits(rng, sizes, per)
    for name, rule in rules.items():
        start = time.perf_counter()
        cols[f"false {name} %"] = rejected_by_size(rule(v, g), n_row, slice(None))
        print(f"# {name} rule on {len(v):,} Gaussian values: {time.perf_counter() - start:.1f} s")
    cases = [(1, 10.0, "10σ"), (1, 5.0, "5σ"), (2, 10.0, "2×10σ")]
    for planted, amp, label in cases:
        ok = sizes > planted
        per = np.full(ok.sum(), args.outlier_visits)
        v, g, n_row, is_planted = visits(rng, sizes[ok], per, planted, amp)
        for name, rule in rules.items():
            cols[f"{label} {name} %"] = rejected_by_size(rule(v, g), n_row, is_planted)
    out = pd.DataFrame(cols)
    out.index.name = "n"
    print(
        f"# sigma {args.sigma}, iterations {args.iterations}, seed {args.seed}: % of Gaussian "
        f"values rejected ({args.exposures:,} a size), % of planted outliers removed "
        f"({args.outlier_visits:,} visits a size)"
    )
    header = "| n | " + " | ".join(out.columns) + " |"
    print(header)
    print("|" + "---|" * (len(out.columns) + 1))
    for n, row in out.iterrows():
        cells = [
            "" if np.isnan(x) else f"{x:.3f}" if col.startswith("false") else f"{x:.1f}"
            for col, x in row.items()
        ]
        print(f"| {n} | " + " | ".join(cells) + " |")
    mid = out.loc[(out.index >= 5) & (out.index <= 30), "false new %"]
    print(f"# new rule, n = 5..30: {mid.min():.3f} to {mid.max():.3f} % rejected")
    return out


# --- calibration -------------------------------------------------------------------------
CAL_SIGMAS = np.array([2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0])
CAL_WEIGHTS = np.array([0.5, 1, 1, 1, 1, 1, 0.5])  # the ends: the least used and, at 5, noisiest
CAL_SIZES = [*range(3, 41), 45, 50, 60, 70, 80, 100, 130, 160, 200, 300]


def ratio_quantiles(rng, n: int, samples: int) -> np.ndarray:
    """Upper quantiles of |x - median| / (1.4826 MAD) over Gaussian samples of n values, at
    P = P(|z| > sigma) for each of CAL_SIGMAS."""
    p = np.array([math.erfc(s / math.sqrt(2)) for s in CAL_SIGMAS])
    chunk = max(1, 10_000_000 // n)
    tails, total = [], 0
    while total < samples:
        x = np.sort(rng.standard_normal((chunk, n)), axis=1)
        med = 0.5 * (x[:, (n - 1) // 2] + x[:, n // 2])[:, None]
        d = np.sort(np.abs(x - med), axis=1)
        mad = 0.5 * (d[:, (n - 1) // 2] + d[:, n // 2])[:, None]
        r = (d / (binning.MAD_TO_SIGMA * mad)).ravel()
        total += r.size
        tails.append(r[r > 1.4])
    tail = np.sort(np.concatenate(tails))[::-1]
    return tail[(p * total).astype(int)]


def nelder_mead(f, x0, step, iterations):
    x0 = np.asarray(x0, float)
    pts = [x0] + [x0 + step * e for e in np.eye(len(x0))]
    vals = [f(p) for p in pts]
    for _ in range(iterations):
        order = np.argsort(vals)
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        c = np.mean(pts[:-1], axis=0)
        xr = c + (c - pts[-1])
        fr = f(xr)
        if fr < vals[0]:
            xe = c + 2 * (c - pts[-1])
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = c + 0.5 * (pts[-1] - c)
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:
                pts = [pts[0]] + [pts[0] + 0.5 * (p - pts[0]) for p in pts[1:]]
                vals = [vals[0]] + [f(p) for p in pts[1:]]
    best = int(np.argmin(vals))
    return pts[best], vals[best]


def calibrate(args) -> None:
    """Fit ``binning.clip_limit``'s model to simulated quantiles and print its constants."""
    rng = np.random.default_rng(args.seed)
    q = {}
    for n in CAL_SIZES:
        q[n] = np.log(ratio_quantiles(rng, n, int(args.samples)))
        print(f"# n = {n}: quantiles {np.round(np.exp(q[n]), 3).tolist()}", flush=True)
    # log t_nu quantiles on a grid of log nu, interpolated inside the fit
    grid = np.linspace(math.log(0.3), math.log(20000), 3000)
    lt = np.array(
        [[math.log(binning.t_quantile(s, math.exp(g))) for g in grid] for s in CAL_SIGMAS]
    )

    def log_t(nu):
        return np.array([np.interp(math.log(nu), grid, row) for row in lt])

    def model(par, n):
        s, c0, c1, b0, b1, b2 = par
        m = 2 * (n // 2)
        return s * m + c0 + c1 / m, (1 - b0 / m + b1 / m**2) * (1 + b2 * (n % 2) / m**2)

    def loss(par, ns):
        total = 0.0
        for n in ns:
            nu, a = model(par, n)
            if nu <= 0.3 or a <= 0:
                return 1e9
            total += float(np.sum(CAL_WEIGHTS * (math.log(a) + log_t(nu) - q[n]) ** 2))
        return total

    big = [n for n in CAL_SIZES if n >= 5]
    par = np.array([0.3675, 1.0, -2.0, 0.5, 1.0, 0.0])
    for step in (0.3, 0.1, 0.03, 0.01):
        par, value = nelder_mead(lambda p: loss(p, big), par, step, 2000)
    print(f"CLIP_DOF = {tuple(np.round(par[:3], 4).tolist())}  # s, c0, c1")
    print(f"CLIP_SCALE = {tuple(np.round(par[3:], 4).tolist())}  # b0, b1, b2   (loss {value:.4f})")
    small = {}
    for n in (3, 4):

        def one(p, n=n):
            nu, a = math.exp(p[0]), math.exp(p[1])
            return float(np.sum(CAL_WEIGHTS * (math.log(a) + log_t(nu) - q[n]) ** 2))

        p, _ = nelder_mead(one, [0.0, 0.0], 0.3, 400)
        small[n] = (round(math.exp(p[0]), 4), round(math.exp(p[1]), 4))
    print(f"CLIP_SMALL_N = {small}  # n: (nu, a)")


def main(argv=None) -> pd.DataFrame | None:
    """Run the benchmark with the command line ``argv``: the table (returned) or, with
    ``--calibrate``, the fit."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sigma", type=float, default=3.0, help="the clipping sigma (default 3)")
    ap.add_argument("--iterations", type=int, default=5, help="at most this many rounds (5)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (1)")
    ap.add_argument(
        "--exposures", type=int, default=500_000, help="Gaussian values per visit size (500,000)"
    )
    ap.add_argument(
        "--outlier-visits", type=int, default=5_000, help="visits per size with outliers (5,000)"
    )
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=SIZES, help="visit sizes (2..50 and 60..200)"
    )
    ap.add_argument(
        "--calibrate", action="store_true", help="fit clip_limit's model instead (slow)"
    )
    ap.add_argument(
        "--samples", type=float, default=1e7, help="--calibrate: values simulated per n (1e7)"
    )
    args = ap.parse_args(argv)
    if args.calibrate:
        return calibrate(args)
    return table(args)


if __name__ == "__main__":
    main()
