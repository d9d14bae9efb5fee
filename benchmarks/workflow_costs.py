"""What the workflow itself costs: the demo from scratch, a no-op rerun, and the plan of the
notebook-scale case (1,830 targets over the whole sky, 11 years, IRSA's bucket) per shard order;
with ``--large``, also 10^6 targets over the sky and 200,000 in a 160 deg^2 field.

    python benchmarks/workflow_costs.py [--orders 1 2 3] [--large] [--workdir /tmp/nlc-bench]

Prints a Markdown table. Nothing is read from the bucket: the plan cases run only the targets
and manifest rules (timed: *manifest*), then a dry run (timed: *dry run*); the job counts are
the dry run's.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
IRSA = "s3://nasa-irsa-wise/wise/neowiser/catalogs/p1bs_psd/healpix_k5"


def snakemake(
    workdir: Path, config: dict, *args: str, env: dict | None = None
) -> tuple[float, str]:
    """Run the workflow in ``workdir`` with ``config``; returns (wall seconds, output).
    Exits with the output's tail if Snakemake fails."""
    cfg = workdir / "bench-config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        "--cores",
        "2",
        "--configfile",
        str(cfg),
        *args,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
    return elapsed, proc.stdout + proc.stderr


def deep_update(base: dict, extra: dict) -> dict:
    """``base`` with ``extra``'s keys, nested dicts updated key by key (as ``--configfile``
    files are)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out


def jobs_ran(output: str, rule: str) -> int:
    """How many jobs of ``rule`` a run's output says it ran."""
    return len(re.findall(rf"^(?:local)?rule {rule}:$", output, re.MULTILINE))


def dry_run_count(output: str, rule: str) -> int:
    """A rule's row of a dry run's job stats (0 when absent)."""
    found = re.search(rf"^{rule}\s+(\d+)$", output, re.MULTILINE)
    return int(found.group(1)) if found else 0


def sky_targets(n: int, seed: int) -> pd.DataFrame:
    """``n`` targets uniform on the sphere, in the notebook's column names."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "uid": np.arange(1, n + 1),
            "RAJ2000": rng.uniform(0, 360, n),
            "DEJ2000": np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
        }
    )


def field_targets(n: int, seed: int) -> pd.DataFrame:
    """``n`` targets uniform in the 48 adjacent order-5 partitions (~160 deg^2) of the
    order-2 pixel holding (RA, Dec) = (80, -69), the Large Magellanic Cloud, minus 16."""
    import hpgeom

    rng = np.random.default_rng(seed)
    first = int(hpgeom.angle_to_pixel(4, 80.0, -69.0)) * 64
    ra, dec = [], []
    while sum(len(r) for r in ra) < n:
        r = rng.uniform(0, 360, 50 * n)
        d = np.degrees(np.arcsin(rng.uniform(-1, -0.8, 50 * n)))
        k5 = hpgeom.angle_to_pixel(32, r, d)
        keep = (k5 >= first) & (k5 < first + 48)
        ra.append(r[keep])
        dec.append(d[keep])
    return pd.DataFrame(
        {
            "uid": np.arange(1, n + 1),
            "RAJ2000": np.concatenate(ra)[:n],
            "DEJ2000": np.concatenate(dec)[:n],
        }
    )


def plan_case(workdir: Path, name: str, targets: pd.DataFrame, match: dict) -> tuple:
    """Manifest and dry run of ``targets`` over IRSA's bucket, 11 years."""
    workdir.mkdir(parents=True)
    targets.to_csv(workdir / "targets.csv", index=False)
    cfg = {
        "targets": {"source": "file", "path": "targets.csv"},
        "catalog": {"root": IRSA, "years": list(range(1, 12))},
        "match": match,
        "one_job": False,  # the staged rules' jobs (auto would run a small sample in one job)
    }
    manifest_wall, _ = snakemake(workdir, cfg, "--until", "manifest")
    wall, out = snakemake(workdir, cfg, "-n")
    n_match, n_lc = dry_run_count(out, "match"), dry_run_count(out, "lightcurves")
    return (
        name,
        f"{n_match:,}",
        f"{n_lc:,}",
        f"{dry_run_count(out, 'total'):,}",
        f"{manifest_wall:.1f} s",
        f"{wall:.1f} s",
    )


def main(argv=None) -> list[tuple]:
    """Run the benchmark with the command line ``argv``; print the table and return its rows."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--large", action="store_true", help="also 10^6 and dense-field plans")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/nlc-bench"))
    ap.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the demo from scratch and again (default: yes)",
    )
    ap.add_argument(
        "--notebook-targets",
        type=int,
        default=1830,
        help="targets of the notebook-scale plans (default 1,830, the notebook's)",
    )
    args = ap.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    rows = []

    if args.demo:
        demo_dir = args.workdir / "demo"
        demo_dir.mkdir(parents=True)
        wall, out = snakemake(demo_dir, {})
        n_match, n_lc = jobs_ran(out, "match"), jobs_ran(out, "lightcurves")
        rows.append(
            ("demo from scratch (default config)", f"{n_match}", f"{n_lc}", "", "", f"{wall:.1f} s")
        )
        wall, out = snakemake(demo_dir, {})
        assert "Nothing to be done" in out
        rows.append(("demo no-op rerun", "0", "0", "0", "", f"{wall:.1f} s"))

    n = args.notebook_targets
    notebook = sky_targets(n, 1830)
    for order in args.orders:
        rows.append(
            plan_case(
                args.workdir / f"notebook-k{order}",
                f"notebook scale ({n:,} targets), shard order {order}",
                notebook,
                {"shard_order": order},
            )
        )
    if args.large:
        rows.append(
            plan_case(
                args.workdir / "sky-1e6", "10^6 targets over the sky", sky_targets(10**6, 6), {}
            )
        )
        rows.append(
            plan_case(
                args.workdir / "field-2e5",
                "200,000 targets in 48 partitions (160 deg^2)",
                field_targets(200_000, 2),
                {},
            )
        )

    print("| case | match jobs | light-curve jobs | jobs in all | manifest | dry run (or run) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return rows


if __name__ == "__main__":
    main()
