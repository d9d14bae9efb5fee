"""The workflow end to end on a tiny demo sky, and the incremental cases, each checked by
counting the jobs that ran."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from conftest import brute_force_pairs
from workflow_helpers import (
    REPO,
    TINY,
    command,
    deep_update,
    dry_run_counts,
    groups,
    read_sorted,
    snakemake,
)

from neowise_lightcurves import cache as nl_cache
from neowise_lightcurves import demo, estimates, manifest
from neowise_lightcurves.inprocess import fetch

pytestmark = pytest.mark.workflow


def demo_targets_csv(path, extra=None):
    t = demo.build_sky(seed=1, field_sources=5).targets[["target_id", "ra", "dec", "kind"]]
    if extra is not None:
        t = pd.concat([t, pd.DataFrame(extra)], ignore_index=True)
    t.to_csv(path, index=False)
    return t


def demo_catalogue(results, year, columns):
    """Columns of every row of the demo catalogue's ``year`` that a run under ``results`` wrote."""
    return pads.dataset(
        results / f"demo/catalog/{year}/neowiser-healpix_k5-{year}.parquet",
        format="parquet",
        partitioning="hive",
        exclude_invalid_files=True,
    ).to_table(columns=columns)


def shard_digests(workdir):
    return {
        s.shard: s.digest for s in manifest.read_shards(workdir / "results/manifest/shards.tsv")
    }


def test_demo_source_end_to_end_and_report(tmp_path):
    """`targets.source: demo`, the README's demo (periods and the AllWISE MEP on, as `make
    demo` runs), on one year: outputs, figures, report."""
    demo_run = {"catalog": {"years": [2], "allwise_mep": {"enabled": True}}}
    cfg = deep_update(TINY, deep_update(demo_run, {"periods": {"enabled": True}}))
    ran, _ = snakemake(tmp_path, cfg)
    assert ran["demo_targets"] == 1 and ran["demo_year"] == 1 and ran["plots"] == 1
    # the MEP from the demo's own copy, one job per shard as for the year
    assert ran["demo_allwise"] == 1 and ran["match_allwise"] == ran["match"] > 0
    res = tmp_path / "results"
    lc = read_sorted(res, "lightcurves")
    summary = read_sorted(res, "summary")
    for col in (
        "target_id",
        "cntr",
        "mjd",
        "ra",
        "dec",
        "dist_arcsec",
        "year",
        "w1flux",
        "w1sigflux",
        "w2flux",
        "w2sigflux",
        "w1mpro",
        "w1sigmpro",
        "w2mpro",
        "w2sigmpro",
        "cc_flags",
    ):
        assert col in lc.columns
    assert (lc["cc_flags"] == "0000").all()  # the default cuts
    assert set(lc["year"]) == {"year2", "allwise"}
    seen = set(lc.loc[lc["year"] == "year2", "target_id"])
    assert set(lc.loc[lc["year"] == "allwise", "target_id"]) == seen  # every one back to 2010
    assert len(summary) == len(demo.build_sky(1, 5).targets)
    assert summary.set_index("target_id").loc["EMPTY", "n_detections"] == 0
    assert len(list((res / "plots").glob("*.png"))) == 3
    # periods (on, as `make demo` runs): the demo's PERIODIC found (up to the 6-month
    # aliases, one year here), the constant targets not; EMPTY has none
    found = summary.set_index("target_id")
    assert abs(1 / found.loc["PERIODIC", "period_days"] - 1 / 0.2871) < 0.05
    assert found.loc["PERIODIC", "period_significant"]
    kind = demo.build_sky(1, 5).targets.set_index("target_id")["kind"]
    assert not found.loc[kind[kind == "constant"].index, "period_significant"].any()
    assert np.isnan(found.loc["EMPTY", "period_days"])
    # binned epochs, per-target files and provenance
    binned = read_sorted(res, "binned")
    assert set(binned["target_id"]) == set(lc["target_id"])
    with_data = summary[summary["n_detections"] > 0]
    assert len(list((res / "per_target").rglob("*.raw.parquet"))) == len(with_data)
    index = pd.read_parquet(res / "per_target/index.parquet")
    assert set(index["target_id"]) == set(with_data["target_id"])
    assert all((res / "per_target" / p).is_file() for p in index["path"])
    assert len(index) == 2 * len(with_data)  # raw and binned, in Parquet
    # one file per group of targets, each sorted by target
    group_files = sorted((res / "lightcurves.parquet").glob("*.parquet"))
    assert [p.stem for p in group_files] == sorted(g.group for g in groups(res))
    for path in group_files:
        ids = pd.read_parquet(path, columns=["target_id"])["target_id"].tolist()
        assert ids == sorted(ids)
    meta = pq.read_schema(group_files[0]).metadata
    assert meta[b"cuts"] == b"cc_flags == '0000'" and meta[b"years"] == b"year2,allwise"
    assert meta[b"radius_arcsec"] == b"1.0" and meta[b"catalog_root"] == b"demo"
    assert (res / "overview/sky.png").stat().st_size > 5000
    _, proc = snakemake(tmp_path, deep_update(TINY, demo_run), "--report", "report.html")
    html = (tmp_path / "report.html").read_text(errors="replace")
    assert "Light curves" in html and "Overview" in html and ".png" in html


def test_exact_and_incremental(tmp_path):
    csv = tmp_path / "targets.csv"
    targets = demo_targets_csv(csv)
    # several shards and groups (shards of order 2 and finer, groups of at most 8 targets), so
    # that a change can rerun some and not others
    small = {"cuts": "", "shard_order": 2, "max_shard_targets": 8}
    cfg = deep_update(TINY, {"targets": {"source": "file", "path": str(csv)}, "match": small})

    # first run: everything
    ran, _ = snakemake(tmp_path, cfg)
    shards = shard_digests(tmp_path)
    homes = groups(tmp_path / "results")
    assert ran["match"] == 2 * len(shards) and ran["manifest"] == 1
    assert ran["lightcurves"] == len(homes) and ran["summary"] == 1

    # exact: the light curves equal brute force over every row of the demo catalogue
    lc = read_sorted(tmp_path / "results", "lightcurves")
    for year in ("year1", "year2"):
        rows = demo_catalogue(tmp_path / "results", year, ["ra", "dec", "cntr"]).to_pandas()
        pairs = brute_force_pairs(targets["ra"], targets["dec"], rows["ra"], rows["dec"], 1.0)
        want = {(targets["target_id"][t], int(rows["cntr"][d])) for t, d in pairs}
        got = lc[lc["year"] == year]
        assert set(zip(got["target_id"], got["cntr"].astype(int), strict=True)) == want
        assert len(got) == len(want)
    raw = pd.read_parquet(tmp_path / "results/lightcurves.parquet")  # as stored
    assert raw.groupby("target_id")["mjd"].apply(lambda s: s.is_monotonic_increasing).all()

    # nothing changed: nothing runs
    t0 = time.perf_counter()
    ran, proc = snakemake(tmp_path, cfg)
    assert sum(ran.values()) == 0, ran
    assert "Nothing to be done" in proc.stdout + proc.stderr
    print(f"no-op rerun: {time.perf_counter() - t0:.1f} s")

    # a year added: only that year's match jobs
    cfg3 = deep_update(cfg, {"catalog": {"years": [1, 2, 3]}})
    ran, _ = snakemake(tmp_path, cfg3)
    assert ran["match"] == len(shards) and ran["demo_year"] == 1 and ran["targets"] == 0
    assert len(list((tmp_path / "results/cache/r1/year3").glob("*.parquet"))) == len(shards)

    # the radius changed: match jobs again; changing it back reuses the earlier cache
    ran, _ = snakemake(tmp_path, deep_update(cfg3, {"match": {"radius_arcsec": 4.0}}))
    assert ran["match"] == 3 * len(shard_digests(tmp_path))
    lc4 = pd.read_parquet(tmp_path / "results/lightcurves.parquet")
    assert set(lc4["target_id"]) <= set(targets["target_id"])
    assert len(lc4) > len(lc) and lc4["dist_arcsec"].max() > 1.0
    ran, _ = snakemake(tmp_path, cfg3)
    assert ran["match"] == 0 and ran["lightcurves"] == len(homes)

    # the cuts changed: no match job; a cut's column the match jobs do not read (qi_fact) is
    # read for the matches alone, one match_columns job per match file, kept beside it
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "results/cache").rglob("*.parquet")}
    cfg3 = deep_update(cfg3, {"match": {"cuts": "cc_flags == '0000' and qi_fact >= 1"}})
    ran, _ = snakemake(tmp_path, cfg3)
    assert ran["match"] == 0 and ran["match_columns"] == 3 * len(shards)
    assert ran["lightcurves"] == len(homes) and ran["plots"] == 1
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "results/cache").rglob("*.parquet")}
    assert {p: after[p] for p in before} == before  # no match file written again
    new = set(after) - set(before)
    assert len(new) == 3 * len(shards) and all("+" in p.name for p in new)
    cut = pd.read_parquet(tmp_path / "results/lightcurves.parquet")
    assert (cut["qi_fact"] >= 1).all() and (cut["cc_flags"] == "0000").all() and 0 < len(cut)
    # the same light curves as a run that matched with qi_fact from the start (fetch())
    same = fetch(
        targets[["target_id", "ra", "dec"]],
        config=str(REPO / "config.yaml"),
        root=str(tmp_path / "results/demo/catalog"),
        years=[1, 2, 3],
        cuts="cc_flags == '0000' and qi_fact >= 1",
    ).to_pandas()
    keys = ["target_id", "cntr"]
    pd.testing.assert_frame_equal(
        cut.sort_values(keys, ignore_index=True)[["target_id", "cntr", "qi_fact", "w1flux_mjy"]],
        same.sort_values(keys, ignore_index=True)[["target_id", "cntr", "qi_fact", "w1flux_mjy"]],
        check_dtype=False,
    )

    # one target added: only the shards whose target set changed, and the light curves of the
    # shards that read them
    old = shard_digests(tmp_path)
    demo_targets_csv(csv, {"target_id": ["NEW"], "ra": [45.3], "dec": [-30.2], "kind": ["new"]})
    ran, _ = snakemake(tmp_path, cfg3)
    new = shard_digests(tmp_path)
    changed = {s for s in new if old.get(s) != new[s]}
    assert len(changed) == 1 and ran["match"] == 3 * len(changed) and ran["manifest"] == 1
    readers = [g.group for g in groups(tmp_path / "results") if changed & set(g.reads)]
    assert ran["lightcurves"] == len(readers) < len(groups(tmp_path / "results"))

    # one target moved: only the shards it left and entered
    old = new
    moved = pd.read_csv(csv)
    moved.loc[moved["target_id"] == "STAR-A01", ["ra", "dec"]] = [45.2, -29.9]
    moved.to_csv(csv, index=False)
    ran, _ = snakemake(tmp_path, cfg3)
    new = shard_digests(tmp_path)
    changed = {s for s in new if old.get(s) != new[s]}
    assert 1 <= len(changed) <= 2 and ran["match"] == 3 * len(changed)
    assert len(changed) < len(new)
    summary = pd.read_parquet(tmp_path / "results/summary.parquet").set_index("target_id")
    assert summary.loc["STAR-A01", "ra"] == pytest.approx(45.2)
    # no stale group file is left, and each target's rows are in one file
    stored = {p.stem for p in (tmp_path / "results/lightcurves.parquet").glob("*.parquet")}
    assert stored == {g.group for g in groups(tmp_path / "results")}
    lc = pd.read_parquet(tmp_path / "results/lightcurves.parquet")
    assert not lc.duplicated(["target_id", "cntr"]).any()

    # pruning the cache: the radius-4 files and the old target lists' go, nothing in use does
    cache = tmp_path / "results/cache"
    key = nl_cache.columns_key(["qi_fact"])  # the cut's column the match jobs do not read
    in_use = {
        cache / f"r1/{y}/{s}-{d}{tail}.parquet"
        for y in ("year1", "year2", "year3")
        for s, d in shard_digests(tmp_path).items()
        for tail in ("", f"+{key}")
    }
    files = set(cache.rglob("*.parquet"))
    assert in_use < files and (cache / "r4").is_dir()
    ran, proc = snakemake(tmp_path, cfg3, "prune_cache")
    assert ran["prune_cache"] == 1 and ran["match"] == 0
    assert set(cache.rglob("*.parquet")) == in_use and not (cache / "r4").exists()
    freed = sum(1 for _ in files - in_use)
    assert f"removed {3 * freed} files" in proc.stderr  # cache files, their logs and records
    ran, _ = snakemake(tmp_path, cfg3)
    assert sum(ran.values()) == 0, ran  # nothing the run needs was removed


def test_notebook_scale_dry_run(tmp_path):
    """1,830 targets over the whole sky, 11 years, IRSA's bucket and the AllWISE MEP: the plan
    stays under 2,500 match jobs, one MEP job a shard, and a dry run takes seconds. Nothing is
    read from the bucket or asked of the TAP service."""
    rng = np.random.default_rng(1830)
    n = 1830
    pd.DataFrame(
        {
            "uid": np.arange(1, n + 1),
            "RAJ2000": rng.uniform(0, 360, n),
            "DEJ2000": np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
        }
    ).to_csv(tmp_path / "cvs.csv", index=False)
    cfg = {
        "targets": {"source": "file", "path": "cvs.csv"},
        "catalog": {
            "root": "s3://nasa-irsa-wise/wise/neowiser/catalogs/p1bs_psd/healpix_k5",
            "years": list(range(1, 12)),
            "allwise_mep": {"enabled": True},  # through IRSA's TAP service
        },
    }
    snakemake(tmp_path, cfg, "--until", "manifest")
    t0 = time.perf_counter()
    _, proc = snakemake(tmp_path, cfg, "-n")
    elapsed = time.perf_counter() - t0
    counts = dry_run_counts(proc.stdout + proc.stderr)
    shards = len(shard_digests(tmp_path))
    assert counts["match"] == 11 * shards
    assert counts["match"] < 2500
    assert counts["match_allwise"] == shards  # one MEP job (and TAP query) per shard
    print(
        f"notebook scale: {counts['match']} match jobs, {counts['match_allwise']} AllWISE MEP "
        f"jobs, dry run {elapsed:.1f} s"
    )
    assert elapsed < 60


def test_plan_before_paying(tmp_path):
    """`snakemake plan` tells targets, partitions, jobs per year, the files' bytes and what the
    match jobs will read (estimated from footers: tests/test_reads.py), reading no data."""
    cfg = deep_update(TINY, {"catalog": {"years": [1, 2]}})
    ran, proc = snakemake(tmp_path, cfg, "plan")
    assert ran["match"] == 0 and ran["plan"] == 1
    text = (tmp_path / "results/plan.txt").read_text()
    shards = shard_digests(tmp_path)
    assert f"match jobs:              {2 * len(shards)} ({len(shards)} per year x 2 years)" in text
    assert f"targets:                 {len(demo.build_sky(1, 5).targets)}" in text
    touched = {
        k
        for s in manifest.read_shards(tmp_path / "results/manifest/shards.tsv")
        for k in s.partitions
    }
    for y in ("year1", "year2"):
        files = [
            p
            for p in (tmp_path / "results/demo/catalog" / y).rglob("part*.parquet")
            if int(p.parent.name.split("=")[1]) in touched
        ]
        line = text.split(y, 1)[1].splitlines()[0].split()
        assert line[:4] == [
            str(len(touched)),
            str(len(files)),
            f"{sum(p.stat().st_size for p in files):,}",
            str(min(len(files), estimates.SAMPLE_FILES)),
        ]
        low, high = (int(v.replace(",", "")) for v in line[5].split("-"))
        assert 0 < low <= high  # (tiny files: footers read twice can exceed the file bytes)
    assert "reading at 80 ms a request" in text


def test_plan_of_a_run_in_one_job_runs_no_job(tmp_path):
    """A small targets file (one_job: auto): the plan makes the targets and manifest itself
    rather than running the one job that writes them, and says what a staged run's plan says."""
    csv = tmp_path / "targets.csv"
    demo_targets_csv(csv)
    cfg = deep_update(TINY, {"targets": {"source": "file", "path": str(csv)}})
    ran, proc = snakemake(tmp_path / "one", deep_update(cfg, {"one_job": "auto"}), "plan")
    assert "one_job: auto:" in proc.stdout + proc.stderr
    assert ran["plan"] == 1 and ran["one_job"] == ran["targets"] == ran["manifest"] == 0
    # a scratch folder's, not the run's, and gone
    made = {p.name for p in (tmp_path / "one/results").iterdir()}
    assert "plan.txt" in made and not made & {"manifest", "targets.parquet"}
    assert not [name for name in made if name.startswith(".plan-")]
    snakemake(tmp_path / "staged", cfg, "plan")
    texts = [(tmp_path / w / "results/plan.txt").read_text() for w in ("one", "staged")]
    assert "match jobs:" in texts[0] and manifest.ONE_JOB_PLAN_LINE in texts[0]
    assert texts[0].replace(manifest.ONE_JOB_PLAN_LINE + "\n", "") == texts[1]


def test_demo_mover_complete_only_with_proper_motion(tmp_path):
    """The demo's MOVER (7.5"/yr across a partition edge): with proper motion (the default) its
    light curve holds every detection of its source; switched off, hardly any, and only the
    shards MOVER's cone touches are matched again, every other light curve unchanged."""
    cfg = deep_update(TINY, {"match": {"cuts": ""}})
    ran, _ = snakemake(tmp_path, cfg)
    res = tmp_path / "results"
    truth = set()
    for year in ("year1", "year2"):
        cntr = demo_catalogue(res, year, ["cntr"])["cntr"].to_numpy()
        truth |= set(cntr[cntr % 10**11 >= 9 * 10**10].tolist())  # the mover's (demo.py)
    lc = read_sorted(res, "lightcurves")
    on = lc[lc["target_id"] == "MOVER"]
    assert set(on["cntr"].astype(int)) == truth and len(truth) >= 40
    assert on["dist_arcsec"].max() < 1.0  # from the position at each detection's time
    rows = pd.read_parquet(res / "manifest/partitions.parquet")
    mover_shards = set(rows.loc[rows["target_id"] == "MOVER", "shard"])
    assert rows.loc[rows["target_id"] == "MOVER", "k5"].nunique() >= 2
    before = shard_digests(tmp_path)

    ran, _ = snakemake(tmp_path, deep_update(cfg, {"match": {"proper_motion": False}}))
    after = shard_digests(tmp_path)
    changed = {s for s in after if before.get(s) != after[s]}
    assert changed and changed <= mover_shards and ran["match"] == 2 * len(changed)
    off = read_sorted(res, "lightcurves")
    assert (off["target_id"] == "MOVER").sum() < len(truth) // 4
    keep = ["target_id", "cntr", "dist_arcsec", "w1flux"]
    pd.testing.assert_frame_equal(
        off.loc[off["target_id"] != "MOVER", keep].reset_index(drop=True),
        lc.loc[lc["target_id"] != "MOVER", keep].reset_index(drop=True),
    )


def one_job_counts(workdir):
    """What the last one-job run matched, read and reused (its log's ``one job:`` line)."""
    import ast

    text = (workdir / "results/logs/one_job.log").read_text()
    return ast.literal_eval(text.split("one job: ", 1)[1].splitlines()[0])


def test_one_job_auto_picks_by_the_targets_files_rows(tmp_path):
    """one_job: auto (the default): a targets file of at most 500 rows runs in one job, a
    longer one in stages (dry runs)."""
    from neowise_lightcurves.config import ONE_JOB_MAX_TARGETS

    rng = np.random.default_rng(3)
    for rows, one in ((3, True), (ONE_JOB_MAX_TARGETS + 1, False)):
        csv = tmp_path / f"targets-{rows}.csv"
        pd.DataFrame(
            {"id": [f"t{i}" for i in range(rows)], "ra": rng.uniform(0, 360, rows)}
        ).assign(dec=rng.uniform(-60, 60, rows)).to_csv(csv, index=False)
        cfg = deep_update(
            TINY, {"one_job": "auto", "targets": {"source": "file", "path": str(csv)}}
        )
        ran, proc = snakemake(tmp_path / f"run-{rows}", cfg, "-n")
        out = proc.stdout + proc.stderr
        assert (ran["one_job"] == 1) is one and (ran["targets"] == 1) is not one, out[-3000:]
        assert ("one_job: auto:" in out) is one

    # a cluster job parses the workflow again: it takes the run's decision from the environment
    # (here one job, against the 501 rows' stages), where a run of its own counts again
    import os
    import subprocess

    from neowise_lightcurves.config import ONE_JOB_ENV

    env = dict(os.environ, **{ONE_JOB_ENV: "1"})
    for mode, one in ((["--mode", "remote"], True), ([], False)):
        args = command(tmp_path / f"run-{rows}", cfg, "-n", *mode)
        proc = subprocess.run(
            [*args, "--", "results/summary.parquet"], capture_output=True, text=True, env=env
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-3000:]
        assert ("rule one_job:" in out) is one and ("rule targets:" in out) is not one, mode


def test_one_job_same_outputs_and_caches(tmp_path):
    """`one_job: true`: the whole run in one job, with the staged run's outputs (the MEP, a
    cut's column read later), and match caches that either kind of run reuses."""
    csv = tmp_path / "targets.csv"
    demo_targets_csv(csv)
    cfg = deep_update(
        TINY,
        {
            "targets": {"source": "file", "path": str(csv)},
            "catalog": {"allwise_mep": {"enabled": True}},
            "match": {
                "cuts": "(year == 'allwise' or (cc_flags == '0000' and qi_fact >= 1))",
                "shard_order": 2,
                "max_shard_targets": 8,
            },
        },
    )
    one, staged = tmp_path / "one", tmp_path / "staged"
    ran, _ = snakemake(one, deep_update(cfg, {"one_job": True}))
    assert ran["one_job"] == 1 and ran["costs"] == 0  # one job: nothing to sum
    assert ran["match"] == ran["lightcurves"] == ran["manifest"] == 0
    n_shards = len(shard_digests(one))
    assert n_shards > 1
    # every (year, shard): two years and the MEP, and a columns file per NEOWISE match file
    assert one_job_counts(one) == {
        "matched": 3 * n_shards,
        "columns_read": 2 * n_shards,
        "reused": 0,
        "groups": len(groups(one / "results")),
    }
    assert (one / "results/benchmarks/one_job.tsv").is_file()
    assert not (one / "results/costs.tsv").exists()

    ran, _ = snakemake(staged, cfg)
    assert ran["match"] == 2 * n_shards and ran["match_allwise"] == n_shards
    for name in ("lightcurves", "binned", "summary"):
        got, want = read_sorted(one / "results", name), read_sorted(staged / "results", name)
        pd.testing.assert_frame_equal(got, want)
    assert (read_sorted(one / "results", "lightcurves")["year"] == "allwise").any()
    assert {p.name for p in (one / "results/plots").glob("*.png")} == {
        p.name for p in (staged / "results/plots").glob("*.png")
    }
    # what the match jobs read: the same, whether one job or many read it
    read = [json.loads((w / "results/reads.json").read_text()) for w in (one, staged)]
    assert read[0]["total"]["files"] > 0 and read[0] == read[1]
    names = {p.relative_to(one) for p in (one / "results/cache").rglob("*.parquet")}
    assert names == {p.relative_to(staged) for p in (staged / "results/cache").rglob("*.parquet")}

    # the staged run after the one job reuses its caches: no match job of any kind
    ran, _ = snakemake(one, cfg)
    assert ran["match"] == ran["match_allwise"] == ran["match_columns"] == 0
    pd.testing.assert_frame_equal(
        read_sorted(one / "results", "lightcurves"), read_sorted(staged / "results", "lightcurves")
    )
    # a target added, one job again: only the shard it joins is matched and read
    old = shard_digests(one)
    demo_targets_csv(csv, {"target_id": ["NEW"], "ra": [45.3], "dec": [-30.2], "kind": ["new"]})
    ran, _ = snakemake(one, deep_update(cfg, {"one_job": True}))
    changed = {s for s, d in shard_digests(one).items() if old.get(s) != d}
    assert len(changed) == 1 and ran["one_job"] == 1
    counts = one_job_counts(one)
    assert counts["matched"] == 3 and counts["columns_read"] == 2
    assert counts["reused"] == 3 * (len(shard_digests(one)) - 1)
    summary = pd.read_parquet(one / "results/summary.parquet")
    assert "NEW" in set(summary["target_id"])
