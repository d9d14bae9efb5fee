"""The demo through the SLURM profile on a real one-node SLURM cluster on localhost.

Needs root (tools/local-slurm installs Debian's slurm packages and starts the daemons); skipped
otherwise, and with `pytest -m "not slurm"`.
"""

from __future__ import annotations

import os
import subprocess

import pandas as pd
import pytest
from workflow_helpers import REPO, TINY, deep_update, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

TOOL = REPO / "tools" / "local-slurm"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
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
    assert "sbatch" in out or "Submitted" in out or "SLURM" in out
    assert ran["match"] > 0
    for name in ("lightcurves", "binned", "summary"):
        local = pd.read_parquet(tmp_path / "local/results" / f"{name}.parquet")
        remote = pd.read_parquet(tmp_path / "slurm/results" / f"{name}.parquet")
        pd.testing.assert_frame_equal(remote, local)
