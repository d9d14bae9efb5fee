"""The demo through the SLURM profile on a real one-node SLURM cluster on localhost.

Needs root (tools/local-slurm installs Debian's slurm packages and starts the daemons); skipped
otherwise, and with `pytest -m "not slurm"`.
"""

from __future__ import annotations

import os
import re
import subprocess

import pandas as pd
import pytest
from workflow_helpers import REPO, TINY, deep_update, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

TOOL = REPO / "tools" / "local-slurm"


def cluster_up() -> bool:
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(s in out.stdout for s in ("idle", "mixed", "allocated"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running SLURM: one already up is used as it is; otherwise tools/local-slurm starts
    one, and stops exactly what it started afterwards."""
    if cluster_up():
        yield None
        return
    if os.geteuid() != 0:
        pytest.skip("needs root to start a local SLURM (tools/local-slurm)")
    env = dict(os.environ, LOCAL_SLURM_BASE=str(tmp_path_factory.mktemp("slurm")))
    start = subprocess.run(
        [str(TOOL), "start"], capture_output=True, text=True, env=env, timeout=900
    )
    if start.returncode != 0:
        subprocess.run([str(TOOL), "stop"], env=env, timeout=120)
        raise AssertionError(f"local SLURM did not start:\n{start.stdout}\n{start.stderr}")
    yield env
    subprocess.run([str(TOOL), "stop"], env=env, timeout=120)


def test_demo_through_the_slurm_profile_equals_local(tmp_path, cluster):
    cfg = deep_update(TINY, {"catalog": {"years": [1]}})
    snakemake(tmp_path / "local", cfg)
    ran, proc = snakemake(
        tmp_path / "slurm",
        cfg,
        "--profile",
        str(REPO / "profiles" / "slurm"),
        # this cluster: its partition, small requests, fast polling, squeue (no accounting)
        "--default-resources",
        "slurm_partition=debug",
        "mem_mb=300",
        "runtime=10",
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--seconds-between-status-checks",
        "2",
        "--jobs",
        "4",
    )
    out = proc.stdout + proc.stderr
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", out)
    match_groups = [log for _, log in submitted if "group_matches" in log]
    # every match job ran on the cluster, batched: far fewer submissions than match jobs
    assert ran["match"] >= 4 and 1 <= len(match_groups) < ran["match"]
    assert len(submitted) < sum(ran.values())
    for name in ("lightcurves", "binned", "summary"):
        local = pd.read_parquet(tmp_path / "local/results" / f"{name}.parquet")
        remote = pd.read_parquet(tmp_path / "slurm/results" / f"{name}.parquet")
        pd.testing.assert_frame_equal(remote, local)
