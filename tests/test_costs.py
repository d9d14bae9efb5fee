"""Cost records: the jobs behind a run's outputs, their Snakemake benchmark records per rule."""

import pandas as pd
import pytest

from neowise_lightcurves import costs, manifest

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def record(path, s, rss, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{s}\t0:00:01\t{rss}\t1\t1\t1\t0.5\t0\t50\t{cpu}\n")


def test_records_per_rule(tmp_path):
    shards = [
        manifest.Shard("k2_1", "aaaaaaaaaaaa", 3, (1,)),
        manifest.Shard("k2_2", "bbbbbbbbbbbb", 1, (2,)),
    ]
    groups = [manifest.Group("k0_1", 3, ("k2_1", "k2_2"))]
    jobs = costs.run_jobs(shards, groups, "1", ["year1", "year2"], ["targets", "summary"], [])
    assert jobs["match"] == [
        "r1/year1/k2_1-aaaaaaaaaaaa",
        "r1/year1/k2_2-bbbbbbbbbbbb",
        "r1/year2/k2_1-aaaaaaaaaaaa",
        "r1/year2/k2_2-bbbbbbbbbbbb",
    ]
    assert jobs["lightcurves"] == ["k0_1"] and jobs["targets"] == [""]
    for i, job in enumerate(jobs["match"]):
        record(tmp_path / f"match/{job}.tsv", 2.0 + i, 100 + 10 * i, 1.5)
    record(tmp_path / "lightcurves/k0_1.tsv", 3.0, 300, 2.0)
    record(tmp_path / "targets.tsv", 1.0, 90, 0.8)
    record(tmp_path / "match/r4/year1/k2_1-cccccccccccc.tsv", 99, 9999, 99)  # not this run's
    records = costs.read_records(tmp_path, jobs)
    assert len(records) == 6  # no summary record yet, and the old radius's is not counted
    table = costs.per_rule(records).set_index("rule")
    assert table.loc["match", "jobs"] == 4
    assert table.loc["match", "wall_s_total"] == pytest.approx(2 + 3 + 4 + 5)
    assert table.loc["match", "max_rss_mb"] == 130
    assert table.loc["match", "largest_job"] == "r1/year2/k2_2-bbbbbbbbbbbb"
    assert table.loc["lightcurves", "cpu_s_total"] == 2.0
    costs.costs_figure(table.reset_index(), tmp_path / "costs.png")
    assert (tmp_path / "costs.png").stat().st_size > 5000


def test_unmeasured_values_are_missing(tmp_path):
    (tmp_path / "plots.tsv").write_text(HEADER + "0.5\t0:00:00\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\n")
    records = costs.read_records(tmp_path, {"plots": [""]})
    assert records["wall_s"].tolist() == [0.5] and pd.isna(records["max_rss_mb"]).all()
