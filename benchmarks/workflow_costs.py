"""What the workflow itself costs: the demo from scratch, a no-op rerun, and the plan of the
notebook-scale case (1,830 targets over the whole sky, 11 years, IRSA's bucket) per shard order.

    python benchmarks/workflow_costs.py [--orders 1 2 3] [--workdir /tmp/nlc-bench]

Prints a Markdown table. Nothing is read from the bucket: the notebook-scale case runs only the
targets and manifest rules, then a dry run.
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


def jobs_ran(output: str, rule: str) -> int:
    return len(re.findall(rf"^(?:local)?rule {rule}:$", output, re.MULTILINE))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/nlc-bench"))
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    rows = []

    demo_dir = args.workdir / "demo"
    demo_dir.mkdir(parents=True)
    wall, out = snakemake(demo_dir, {})
    rows.append(
        (
            "demo from scratch (default config)",
            f"{jobs_ran(out, 'match')} match jobs",
            f"{wall:.1f} s",
        )
    )
    wall, out = snakemake(demo_dir, {})
    assert "Nothing to be done" in out
    rows.append(("demo no-op rerun", "0 jobs", f"{wall:.1f} s"))

    rng = np.random.default_rng(1830)
    n = 1830
    targets = pd.DataFrame(
        {
            "uid": np.arange(1, n + 1),
            "RAJ2000": rng.uniform(0, 360, n),
            "DEJ2000": np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
        }
    )
    for order in args.orders:
        wd = args.workdir / f"notebook-k{order}"
        wd.mkdir(parents=True)
        targets.to_csv(wd / "cvs.csv", index=False)
        cfg = {
            "targets": {"source": "file", "path": "cvs.csv"},
            "catalog": {"root": IRSA, "years": list(range(1, 12))},
            "match": {"shard_order": order},
        }
        snakemake(wd, cfg, "--until", "manifest")
        wall, out = snakemake(wd, cfg, "-n")
        match = int(re.search(r"^match\s+(\d+)$", out, re.MULTILINE).group(1))
        rows.append(
            (
                f"notebook scale, shard order {order}: dry run",
                f"{match} match jobs",
                f"{wall:.1f} s",
            )
        )

    print("| case | jobs | wall |\n|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
