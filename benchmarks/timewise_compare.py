"""Our binned visits against timewise's, on the same real IRSA rows.

timewise (github.com/JannisNe/timewise, MIT) keeps real IRSA TAP downloads in its test data:
NEOWISE and AllWISE MEP rows within 6" of 63 objects, after its quality cuts, and its own binned
visits of them (``tests/data/photometry``; a six-object subset is in ``tests/data/timewise``).
This script writes those rows into the catalogue's layouts in a temporary folder
(:mod:`neowise_lightcurves.realrows`), runs the workflow on them (6", ``match.cuts: none``,
years 1-11, the AllWISE MEP from the local copy, ``--cores 2``), pairs each of our binned
visits with timewise's visit of the same object nearest in mean MJD (within 1 d) and prints
Markdown tables:

- per band, for NEOWISE visits and MEP visits (MJD < 56000) apart: visits paired / ours /
  theirs; the visits left out of the flux comparison because timewise (or we) call them upper
  limits; the median and the 16-84 % range of ``ours / theirs - 1`` (%) of the flux density
  (mJy), of the catalogue's uncalibrated flux (DN) and of
  the visit's mean time (ours - theirs, in seconds), and the zero point that timewise's flux
  densities imply (``2.5 log10(F_nu0 DN / mJy)``, F_nu0 = 309.540 / 171.787 Jy): timewise
  takes each visit's as the median of its rows' ``w?mpro + 2.5 log10(w?flux)`` over those with
  a positive flux (``timewise/process/stacking.py``), so a faint visit, whose rows below SNR 2
  have 2-sigma upper limits for ``w?mpro``, gets too small a zero point and too large a flux
  density;
- for constant objects (timewise's NEOWISE W1 visits scattering less than 10 %, with MEP
  visits): the NEOWISE level over the MEP level (median visit flux density of each) minus 1,
  ours and timewise's. These nuclear transients' hosts need not be constant since 2010
  (AT2021aeui brightened by 23 %): the difference between ours and timewise's is what tells.

    python benchmarks/timewise_compare.py                        # the subset in the repository
    python benchmarks/timewise_compare.py --timewise ~/timewise/tests/data/photometry
    python benchmarks/timewise_compare.py --workdir /tmp/twc --keep
    python benchmarks/timewise_compare.py --results /tmp/twc/results   # compare a finished run

``--timewise DIR``: a folder with timewise's ``raw_photometry_neowiser_p1bs_psd__chunk*.csv``,
``raw_photometry_allwise_p3as_mep__chunk*.csv`` and ``timewise_data_product_tap_unmasked.json``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
#: Visits before this MJD are the AllWISE MEP's (2010-2011), after it NEOWISE's (2013-2024).
MEP_BEFORE_MJD = 56000.0
#: An object is constant when timewise's NEOWISE W1 visits scatter (std / median) below this.
CONSTANT_SCATTER = 0.10
BANDS = ("w1", "w2")


def run_workflow(workdir: Path, config: dict, cores: int) -> float:
    """Snakemake on ``config`` in ``workdir``; returns its wall time (s). Exits with the
    output's tail if it fails."""
    cfg = workdir / "timewise-config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir)]
    cmd += ["--cores", str(cores), "--configfile", str(cfg)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
    return time.perf_counter() - t0


def _spread(values) -> str:
    """``median [16 %, 84 %]`` of ``values``, or a dash when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return "—"
    p16, p50, p84 = np.percentile(v, [16, 50, 84])
    return f"{p50:+.3f} [{p16:+.3f}, {p84:+.3f}]"


def _spread_s(days) -> str:
    v = np.asarray(days, dtype=float) * 86400.0
    v = v[np.isfinite(v)]
    if not len(v):
        return "—"
    p16, p50, p84 = np.percentile(v, [16, 50, 84])
    return f"{p50:+.2g} [{p16:+.2g}, {p84:+.2g}]"


def visit_table(pairs: pd.DataFrame) -> str:
    """The per-band, per-survey comparison (Markdown) of :func:`realrows.pair_visits`'s
    ``pairs``."""
    from neowise_lightcurves import photometry

    when = pairs["mjd_ours"].fillna(pairs["mean_mjd_theirs"])
    lines = [
        "| band | visits | paired / ours / theirs | upper limits left out (theirs / ours) "
        "| mJy: ours/theirs − 1 (%) median [16 %, 84 %] | DN: ours/theirs − 1 (%) "
        "| mean MJD: ours − theirs (s) | timewise's zero point (mag) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for b in BANDS:
        for survey, part in (("NEOWISE", when >= MEP_BEFORE_MJD), ("MEP", when < MEP_BEFORE_MJD)):
            p = pairs[part]
            paired = p[p["paired"]]
            ul_theirs = paired[f"{b}_upper_limit_theirs"].astype(bool)
            ul_ours = paired[f"{b}_upper_limit_ours"].astype(bool)
            ok = paired[~ul_theirs & ~ul_ours]
            mjy = 100 * (ok[f"{b}_flux_mjy_ours"] / ok[f"{b}_flux_mjy_theirs"] - 1)
            dn = _spread(100 * (ok[f"{b}_flux_ours"] / ok[f"{b}_flux_theirs"] - 1))
            # the zero point timewise's flux densities imply: mJy = F_nu0 DN 10^(-0.4 ZP)
            zp = 2.5 * np.log10(
                1000 * photometry.F_NU0_JY[b] * ok[f"{b}_flux_theirs"] / ok[f"{b}_flux_mjy_theirs"]
            )
            counts = (
                f"{len(paired)} / {p['mjd_ours'].notna().sum()} / "
                f"{p['mean_mjd_theirs'].notna().sum()}"
            )
            lines.append(
                f"| {b.upper()} | {survey} | {counts} | {ul_theirs.sum()} / {ul_ours.sum()} "
                f"| {_spread(mjy)} | {dn} | {_spread_s(paired['dmjd'])} | {_spread(zp)} |"
            )
    return "\n".join(lines)


def constant_levels(pairs: pd.DataFrame, theirs: pd.DataFrame) -> tuple[str, list[str]]:
    """The NEOWISE-over-MEP level of the constant objects (Markdown), and their names."""
    neo = theirs[theirs["mean_mjd"] >= MEP_BEFORE_MJD]
    w1 = neo.loc[~neo["w1_upper_limit"]].groupby("target_id")["w1_flux_mjy"]
    scatter = w1.std() / w1.median()
    has_mep = set(theirs.loc[theirs["mean_mjd"] < MEP_BEFORE_MJD, "target_id"])
    constant = sorted(t for t in scatter.index[scatter < CONSTANT_SCATTER] if t in has_mep)
    lines = [
        "| band | constant objects | NEOWISE / MEP level − 1 (%), ours: median [16 %, 84 %] "
        "| timewise's |",
        "|---|---|---|---|",
    ]
    p = pairs[pairs["paired"] & pairs["target_id"].isin(constant)]
    for b in BANDS:
        upper = p[f"{b}_upper_limit_ours"].astype(bool) | p[f"{b}_upper_limit_theirs"].astype(bool)
        ok = p[~upper]
        ok_mep = ok["mjd_ours"] < MEP_BEFORE_MJD
        ratio = {}
        for side in ("ours", "theirs"):
            col = f"{b}_flux_mjy_{side}"
            level_neo = ok[~ok_mep].groupby("target_id")[col].median()
            level_mep = ok[ok_mep].groupby("target_id")[col].median()
            ratio[side] = 100 * (level_neo / level_mep - 1)
        lines.append(
            f"| {b.upper()} | {ratio['ours'].notna().sum()} "
            f"| {_spread(ratio['ours'])} | {_spread(ratio['theirs'])} |"
        )
    return "\n".join(lines), constant


def main(argv=None) -> pd.DataFrame:
    """Run the comparison with the command line ``argv``; print the tables, return the visit
    pairs."""
    from neowise_lightcurves import realrows

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--timewise",
        type=Path,
        default=realrows.SUBSET,
        help="timewise's tests/data/photometry folder, or one with the same files "
        "(default: the subset in tests/data/timewise)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="where to write and run (default: a temporary folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--cores", type=int, default=2, help="Snakemake's --cores (default 2)")
    parser.add_argument(
        "--results",
        type=Path,
        help="compare this finished run's outputs (a results folder of a run on --timewise's "
        "rows, realrows.workflow_config) instead of running the workflow",
    )
    args = parser.parse_args(argv)

    if args.results is not None:
        return compare(args.results, args.timewise)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nlc-timewise-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        written = realrows.write_layouts(args.timewise, workdir / "catalog")
        config = realrows.workflow_config(written, plots={"top_n": 0})
        wall = run_workflow(workdir, config, args.cores)
        print(
            f"{args.timewise}: {len(written.targets)} objects, {len(written.neowise):,} NEOWISE "
            f"and {len(written.mep):,} MEP rows; the workflow ran in {wall:.0f} s "
            f"({args.cores} cores)"
        )
        return compare(workdir / "results", args.timewise)
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.workdir is None:
            print(f"\nkept {workdir}")


def compare(results: Path, timewise: Path) -> pd.DataFrame:
    """Print the tables comparing the binned visits in ``results`` with timewise's data product
    in ``timewise``; return the visit pairs (:func:`realrows.pair_visits`)."""
    from neowise_lightcurves import realrows

    ours = pd.read_parquet(results / "binned.parquet")
    theirs = realrows.read_data_product(timewise)
    pairs = realrows.pair_visits(ours, theirs)
    print(f"{results} against {timewise}: visits paired within {realrows.PAIR_DAYS:g} d\n")
    print(visit_table(pairs))
    table, constant = constant_levels(pairs, theirs)
    print(
        f"\nConstant objects (timewise's NEOWISE W1 visits scatter < "
        f"{100 * CONSTANT_SCATTER:.0f} %): {', '.join(constant) or 'none'}\n"
    )
    print(table)
    lone = pairs[~pairs["paired"]]
    if len(lone):
        print("\nUnpaired visits:")
        for _, r in lone.iterrows():
            side = "ours" if pd.notna(r["mjd_ours"]) else "theirs"
            mjd = r["mjd_ours"] if side == "ours" else r["mean_mjd_theirs"]
            print(f"- {r['target_id']}: {side} only, MJD {mjd:.4f}")
    else:
        print("\nEvery visit paired.")
    return pairs


if __name__ == "__main__":
    main()
