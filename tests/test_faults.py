"""Faults: interrupted runs, corrupt catalogue files, bad target tables, a full disk. Nothing is
lost and every message names the problem."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_targets import normalize
from workflow_helpers import TINY, command, deep_update, read_sorted, snakemake

from neowise_lightcurves import atomic, catalog, columns, demo, manifest, matching, targets

OUTPUTS = ("lightcurves", "binned", "summary")
ONE_YEAR = deep_update(TINY, {"catalog": {"years": [1]}})


def assert_no_partial_files(results: Path) -> None:
    """Every Parquet file under ``results`` is whole, and no temporary file is left."""
    for path in results.rglob("*.parquet"):
        if path.is_file():  # (the demo's year datasets are folders named *.parquet)
            pq.read_metadata(path)  # raises on a truncated file
    leftovers = [p for p in results.rglob(".tmp-*")]
    assert not leftovers, leftovers


def assert_same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        pd.testing.assert_frame_equal(
            read_sorted(a / "results", name), read_sorted(b / "results", name)
        )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the tiny demo."""
    wd = tmp_path_factory.mktemp("reference")
    snakemake(wd, ONE_YEAR)
    return wd


def test_killed_writer_leaves_no_file_that_looks_finished(tmp_path):
    target = tmp_path / "out.parquet"
    code = (
        "import sys, time\n"
        "from neowise_lightcurves.atomic import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    tmp.write_bytes(b'PAR1' + b'x' * 100000)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    child.kill()
    child.wait()
    assert not target.exists()
    assert len(list(tmp_path.glob(".tmp-out.parquet-*"))) == 1
    # the next writer of the same output clears what the killed one left
    atomic.write_frame(pd.DataFrame({"a": [1]}), target)
    assert pd.read_parquet(target)["a"].tolist() == [1]
    assert list(tmp_path.glob(".tmp-*")) == []


TRIGGERS = {
    "match": lambda res: any((res / "cache").rglob("*.parquet")),
    "merge": lambda res: (res / "logs" / "lightcurves").exists(),
    "plotting": lambda res: (res / "logs" / "plots.log").exists(),
}


@pytest.mark.workflow
@pytest.mark.parametrize("point", sorted(TRIGGERS))
def test_sigkill_then_rerun_equals_an_uninterrupted_run(tmp_path, reference, point):
    cmd = command(tmp_path, ONE_YEAR)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    res = tmp_path / "results"
    deadline = time.monotonic() + 300  # a loaded machine takes long to reach the later jobs
    while not TRIGGERS[point](res):
        assert proc.poll() is None, "the run ended before the kill point"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the workflow and every job it started
    proc.wait()
    assert not (res / "plots").is_dir() or point == "plotting"
    # a hard kill leaves Snakemake's lock: release it, then the same command again
    _, locked = snakemake(tmp_path, ONE_YEAR, check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    snakemake(tmp_path, ONE_YEAR, "--unlock")
    ran, _ = snakemake(tmp_path, ONE_YEAR)
    assert sum(ran.values()) > 0
    assert_same_outputs(tmp_path, reference)
    assert_no_partial_files(res)


@pytest.mark.workflow
def test_corrupt_leaf_fails_its_job_keep_going_then_repair(tmp_path, tiny_catalog):
    root = tmp_path / "catalog"
    shutil.copytree(tiny_catalog, root)
    t = demo.build_sky(1, 5).targets
    t.to_csv(tmp_path / "targets.csv", index=False)
    cfg = deep_update(
        TINY,
        {
            "targets": {"source": "file", "path": str(tmp_path / "targets.csv")},
            "catalog": {"root": str(root)},
        },
    )
    # the file holding CORNER's detections, truncated to half
    k5 = int(manifest.target_partitions(t[t.target_id == "CORNER"], 1.0, 5)["k5"].iloc[0])
    leaf = root / catalog.partition_path("year1", k5) / "part0.snappy.parquet"
    good = leaf.read_bytes()
    leaf.write_bytes(good[: len(good) // 2])
    ran, proc = snakemake(tmp_path / "run", cfg, "--keep-going", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"cannot read catalogue file {leaf}" in out
    shards = manifest.read_shards(tmp_path / "run/results/manifest/shards.tsv")
    done = list((tmp_path / "run/results/cache").rglob("*.parquet"))
    assert len(done) == 2 * len(shards) - 1, "every other match job finished"
    assert not (tmp_path / "run/results/summary.parquet").exists()
    # repaired: the rerun runs the one failed job and completes
    leaf.write_bytes(good)
    ran, _ = snakemake(tmp_path / "run", cfg)
    assert ran["match"] == 1
    ref = tmp_path / "ref"
    snakemake(ref, deep_update(cfg, {"catalog": {"root": str(tiny_catalog)}}))
    assert_same_outputs(tmp_path / "run", ref)


def test_empty_partition_folder_and_extra_files(tiny_catalog, tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(tiny_catalog, root)
    t = pd.DataFrame({"target_id": ["c"], "ra": [150.1], "dec": [2.2]})
    rows = manifest.target_partitions(t, 1.0, 5)
    leaf = root / catalog.partition_path("year1", int(rows["k5"].iloc[0]))
    for f in leaf.iterdir():
        f.unlink()
    (leaf / "_SUCCESS").write_text("")  # not a data file
    cat = catalog.open_catalog(str(root))
    out = matching.match_shard(cat, "year1", rows, 1.0, columns.cached_columns(), 1)
    assert out.num_rows == 0 and out.schema.names[:3] == ["target_id", "dist_arcsec", "year"]


def test_non_utf8_targets_file_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"name,ra,dec\nAl\xe9,1.0,2.0\n")
    with pytest.raises(targets.TargetError, match=f"cannot read targets file '{path}'"):
        targets.read_table(str(path))


def test_a_million_targets_simply_work():
    import numpy as np

    n = 1_000_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "ra": rng.uniform(0, 360, n),
            "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
        }
    )
    out = normalize(frame)
    # the defaults: from the whole sky down, split above 20,000 targets or 256 partitions
    rows = manifest.target_partitions(out, 1.0, -1, 20_000, max_shard_partitions=256)
    items = manifest.shards(rows, 1.0, ("ra",), "demo")
    assert out["target_id"].is_unique and len(out) == n
    assert rows["target_id"].nunique() == n and len(items) == 192  # the order-2 pixels
    assert max(s.n_targets for s in items) <= 20_000
    # (how long it takes is measured by benchmarks/workflow_costs.py --large, not asserted)


@pytest.mark.workflow
def test_disk_full_gives_a_clear_error_and_no_partial_output(tmp_path, tiny_catalog):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(small)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        demo.build_sky(1, 5).targets.to_csv(tmp_path / "targets.csv", index=False)
        cfg = deep_update(
            TINY,
            {
                "targets": {"source": "file", "path": str(tmp_path / "targets.csv")},
                "catalog": {"root": str(tiny_catalog)},
                "outdir": str(small / "results"),
            },
        )
        _, proc = snakemake(tmp_path / "wd", cfg, "--keep-going", check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert "No space left on device" in out
        assert_no_partial_files(small / "results")
    finally:
        subprocess.run(["umount", str(small)], check=False)
