"""The one job's figure process: it draws what the stages draw, adds its lines to the job's log
without overwriting the job's, reports a failure, and ends quietly when never asked."""

import pytest
from workflow_helpers import TINY, deep_update

from neowise_lightcurves import config, demo, logs, stages
from neowise_lightcurves.figure_process import FigureProcess, FigureProcessFailed


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A small one-job run drawn in this process (no figure process): its outputs."""
    tmp = tmp_path_factory.mktemp("figures")
    root = tmp / "catalog"
    demo.write_year(root, "year1", seed=1, field_sources=5)
    targets = tmp / "targets.csv"
    demo.build_sky(1, 5).targets.to_csv(targets, index=False)
    cfg = deep_update(
        deep_update(config.defaults(), TINY),
        {
            "targets": {"source": "file", "path": str(targets)},
            "catalog": {"root": str(root), "years": [1]},
            "plots": {"top_n": 2},
        },
    )
    resolved = config.resolve(cfg)
    out = tmp / "results"
    params = config.stage_params(cfg, resolved)
    stages.run_in_one_job(
        str(out), str(targets), resolved.radius_tag, ["year1"], params, per_target_index=False
    )
    return out, params


def test_it_draws_what_the_job_would_and_both_logs_stay(run, tmp_path):
    out, params = run
    log = tmp_path / "job.log"
    logs.to_file(log).info("the job's own line")
    with FigureProcess(str(log)) as figures:
        logs.to_file(log, append=True).info("a line of the job's while the process starts")
        figures.draw(
            {"summary_path": str(out / "summary.parquet"), "output": str(tmp_path / "plots")}
            | params["plots"],
            {
                "summary_path": str(out / "summary.parquet"),
                "variability": str(tmp_path / "variability.png"),
                "sky": str(tmp_path / "sky.png"),
            },
        )
        logs.to_file(log, append=True).info("the job's line after the figures")
    drawn = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert drawn == sorted(p.name for p in (out / "plots").glob("*.png")) and len(drawn) == 2
    assert (tmp_path / "variability.png").stat().st_size > 1000
    assert (tmp_path / "sky.png").stat().st_size > 1000
    text = log.read_text()
    for line in (
        "the job's own line",
        "a line of the job's while the process starts",
        "2 figures in",
        "wrote ",
        "the job's line after the figures",
    ):
        assert line in text, line
    assert text.count("process CPU: start-up") == 1  # the figure process's (this one: at exit)


def test_a_failure_is_raised_and_its_reason_logged(tmp_path):
    log = tmp_path / "job.log"
    logs.to_file(log)
    missing = str(tmp_path / "no-summary.parquet")
    with FigureProcess(str(log)) as figures, pytest.raises(FigureProcessFailed):
        figures.draw(
            {"summary_path": missing, "output": str(tmp_path / "plots")}
            | {"top_n": 1, "flux_unit": "mjy", "gap_days": 100.0},
            {"summary_path": missing, "variability": "v.png", "sky": "s.png"},
        )
    assert "failed:" in log.read_text() and "no-summary.parquet" in log.read_text()
    assert not (tmp_path / "plots").exists()


def test_never_asked_it_ends_and_writes_nothing(tmp_path):
    log = tmp_path / "job.log"
    logs.to_file(log).info("the job failed before its figures")
    with FigureProcess(str(log)) as figures:
        pass
    assert figures._proc.returncode == 0
    assert log.read_text().count("\n") == 1
