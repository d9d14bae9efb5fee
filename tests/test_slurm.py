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

#: The profile, and this cluster: its partition, small requests, fast polling, squeue (no
#: accounting).
SLURM_ARGS = (
    "--profile",
    str(REPO / "profiles" / "slurm"),
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
_SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")
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
        *SLURM_ARGS,
    )
    out = proc.stdout + proc.stderr
    submitted = _SUBMITTED.findall(out)
    match_groups = [log for _, log in submitted if "group_matches" in log]
    # every match job ran on the cluster, batched: far fewer submissions than match jobs
    assert ran["match"] >= 4 and 1 <= len(match_groups) < ran["match"]
    assert len(submitted) < sum(ran.values())
    for name in ("lightcurves", "binned", "summary"):
        local = pd.read_parquet(tmp_path / "local/results" / f"{name}.parquet")
        remote = pd.read_parquet(tmp_path / "slurm/results" / f"{name}.parquet")
        pd.testing.assert_frame_equal(remote, local)


def test_a_small_targets_file_is_one_slurm_job(tmp_path, local_slurm):
    """one_job: auto with a small targets file: one SLURM submission runs the whole run (its
    job, which parses the workflow again, keeps the run's decision), with the local run's
    outputs. The profile asks 8 CPUs for it; this one-node cluster has 2."""
    if local_slurm is None:
        pytest.skip("needs root to start a local SLURM (tools/local-slurm)")
    from neowise_lightcurves import demo

    csv = tmp_path / "targets.csv"
    demo.build_sky(seed=1, field_sources=5).targets[["target_id", "ra", "dec"]].to_csv(
        csv, index=False
    )
    cfg = deep_update(
        TINY,
        {
            "one_job": "auto",
            "catalog": {"years": [1]},
            "targets": {"source": "file", "path": str(csv)},
        },
    )
    ran, _ = snakemake(tmp_path / "local", cfg)
    assert ran["one_job"] == 1 and ran["match"] == 0
    ran, proc = snakemake(tmp_path / "slurm", cfg, *SLURM_ARGS, "--set-threads", "one_job=2")
    out = proc.stdout + proc.stderr
    assert ran["one_job"] == 1 and ran["match"] == ran["targets"] == 0, out[-3000:]
    submitted = [log for _, log in _SUBMITTED.findall(out)]  # and the demo sky's year
    assert [log for log in submitted if "rule_demo_year" not in log] == [
        log for log in submitted if "rule_one_job" in log
    ]
    assert sum("rule_one_job" in log for log in submitted) == 1, submitted
    for name in ("lightcurves", "binned", "summary"):
        local = pd.read_parquet(tmp_path / "local/results" / f"{name}.parquet")
        remote = pd.read_parquet(tmp_path / "slurm/results" / f"{name}.parquet")
        pd.testing.assert_frame_equal(remote, local)
