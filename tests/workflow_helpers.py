"""Running the workflow from tests: in a temporary working folder, counting the jobs that ran."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
_JOB = re.compile(r"^\s*(?:local)?(?:rule|checkpoint) (\w+):$", re.MULTILINE)
_STATS = re.compile(r"^(\w+)\s+(\d+)$", re.MULTILINE)

#: A tiny demo: 5 field stars per region, two years.
TINY = {
    "demo": {"seed": 1, "field_sources": 5},
    "catalog": {"root": "demo", "years": [1, 2]},
    "match": {"threads": 1},
    "plots": {"top_n": 3},
    # the staged rules (one_job: auto would run a small targets file in one job)
    "one_job": False,
}


def deep_update(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = (
            deep_update(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        )
    return out


def command(workdir: Path, config: dict, *args: str) -> list[str]:
    """The Snakemake command line for the project's Snakefile in ``workdir``, with ``config``
    (written to ``workdir/test-config.yaml``) over the defaults."""
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "test-config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "-d",
        str(workdir),
        "--cores",
        "2",
        *args,
        "--configfile",  # last: it takes every argument after it as a file
        str(cfg),
    ]


def snakemake(workdir: Path, config: dict, *args: str, check: bool = True):
    """Run Snakemake (see :func:`command`); returns (jobs that ran, by rule; the process)."""
    proc = subprocess.run(
        command(workdir, config, *args), capture_output=True, text=True, cwd=workdir
    )
    output = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{output[-6000:]}")
    return Counter(_JOB.findall(output)), proc


#: Sort keys of the run's tables (shard files are each sorted; the folder is not as a whole).
SORT_KEYS = {
    "lightcurves": ["target_id", "mjd", "cntr"],
    "binned": ["target_id", "epoch"],
    "summary": ["target_id"],
}


def read_sorted(results: Path, name: str):
    """``{results}/{name}.parquet`` (a shard folder or one file), sorted by target."""
    import pandas as pd

    frame = pd.read_parquet(results / f"{name}.parquet")
    return frame.sort_values(SORT_KEYS[name], kind="stable", ignore_index=True)


def groups(results: Path) -> list:
    """The manifest's groups of targets: one light-curve job each."""
    from neowise_lightcurves import manifest

    return manifest.read_groups(results / "manifest/groups.tsv")


def dry_run_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run, as {rule: count}."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {k: int(v) for k, v in _STATS.findall(table)}
