"""The demo through the SLURM profile on a real one-node SLURM cluster on localhost.

The cluster comes from the session fixture ``local_slurm`` (tests/conftest.py): needs root
(tools/local-slurm installs Debian's slurm packages and starts the daemons); skipped otherwise,
and left out with `pytest -m "not slurm"`.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from workflow_helpers import REPO, TINY, deep_update, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]
pytest.importorskip(
    "snakemake_executor_plugin_slurm", reason="the SLURM extra: pip install -e '.[slurm]'"
)


def test_demo_through_the_slurm_profile_equals_local(tmp_path, local_slurm):
    if local_slurm is None:
        pytest.skip("needs root to start a local SLURM (tools/local-slurm)")
    # shards of order 2 (not the whole sky): several match jobs, to be batched into groups
    cfg = deep_update(TINY, {"catalog": {"years": [1]}, "match": {"shard_order": 2}})
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
