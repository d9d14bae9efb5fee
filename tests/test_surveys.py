"""Sources of epochs (surveys.py), and the one job's handling of failed jobs (stages.py)."""

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from neowise_lightcurves import cache, config, stages, surveys
from neowise_lightcurves.manifest import Shard


def test_a_survey_says_what_it_is():
    year, mep = surveys.of("year3"), surveys.of("allwise")
    assert not year.mep and year.columns_files and year.match_rule == cache.MATCH_RULE
    assert mep is surveys.MEP and mep.mep and not mep.columns_files
    assert mep.match_rule == cache.MEP_RULE
    assert surveys.neowise(["year1", "allwise", "addendum"]) == ["year1", "addendum"]
    shard = Shard("sky", "abc", 1, (1,), "def")
    assert year.digest(shard) == "abc" and mep.digest(shard) == "def"
    with pytest.raises(ValueError, match="no AllWISE MEP cache key"):
        mep.digest(Shard("sky", "abc", 1, (1,), ""))


@pytest.mark.parametrize(
    "values",
    [
        pa.array(["year1", None, "allwise"]),
        pa.chunked_array([["year1"], [None, "allwise"]]),
        pd.Series(["year1", pd.NA, "allwise"], dtype="string"),
        pd.Series(["year1", None, "allwise"], dtype="string[pyarrow]"),
        pd.Series(["year1", None, "allwise"], dtype=object),
        np.array(["year1", "year2", "allwise"]),
    ],
    ids=["arrow", "chunked", "string", "string[pyarrow]", "object", "numpy"],
)
def test_mep_rows_of_any_column(values):
    got = surveys.mep_rows(values)
    assert got.dtype == bool and got.tolist() == [False, False, True]


def test_stage_params_keep_the_rules_former_params():
    """Snakemake reruns a job whose params' text changed: the columns stay tuples, as the
    rules passed them when their caches were written, and match_columns keeps its key."""
    cfg = config.defaults()
    cfg["match"] = {**cfg["match"], "extra_columns": ["qi_fact"]}
    p = config.stage_params(cfg)
    for stage, key in [
        ("manifest", "columns"),
        ("manifest", "allwise_columns"),
        ("match", "columns"),
        ("match_columns", "columns"),
        ("match_allwise", "columns"),
    ]:
        assert isinstance(p[stage][key], tuple), (stage, key)
    assert list(p["match_columns"]) == ["root", "s3", "columns", "key", "concurrent_partitions"]
    assert p["match_columns"]["key"] == cache.columns_key(["qi_fact"])


def test_a_failed_job_of_the_one_job_is_named(caplog):
    """Every failure is logged with the job it belongs to, and one error names them all."""

    def ok(out):
        return out

    def broken(out):
        raise OSError(f"cannot read for {out}")

    jobs = [(ok, ("a.parquet",), "x"), (broken, ("b.parquet",), "x"), (ok, ("c.parquet",), "y")]
    with caplog.at_level(logging.ERROR, logger="neowise_lightcurves"):
        with pytest.raises(stages.StageFailed, match=r"1 job\(s\).*x b\.parquet.*OSError"):
            stages._run_all(jobs, {"x": {}, "y": {}}, threads=2)
    assert "x b.parquet failed: cannot read for b.parquet" in caplog.text
