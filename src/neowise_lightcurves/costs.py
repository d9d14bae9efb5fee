"""Every job's cost on record: Snakemake's ``benchmark:`` files (wall time, peak memory, CPU time
and I/O of each job, under ``{outdir}/benchmarks/``), gathered per rule for the report.

A job's record is ``benchmarks/{rule}.tsv`` (rules run once) or ``benchmarks/{rule}/{job}.tsv``
(one per job: ``match/r{radius}/{year}/{shard}-{digest}.tsv``, ``lightcurves/{group}.tsv``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

#: Columns of a Snakemake benchmark record that the summary keeps, and their names here.
RECORD_COLUMNS = {"s": "wall_s", "max_rss": "max_rss_mb", "cpu_time": "cpu_s", "io_in": "io_in_mb"}


def run_jobs(
    shards,
    groups,
    radius: str,
    years: list[str],
    once: list[str],
    demo_years: list[str],
    key: str = "",
    *,
    staged: bool = True,
) -> dict[str, list[str]]:
    """The jobs behind a run's outputs, by rule, as :func:`read_records` names them: the rules
    run once (``once``, :func:`~neowise_lightcurves.cache.once_rules`), the demo's years,
    every (year, shard) match job of the manifest's ``shards`` at ``radius``
    (:func:`~neowise_lightcurves.manifest.radius_tag`; the AllWISE MEP's, year ``"allwise"``,
    as ``match_allwise``), their ``match_columns`` jobs when the run reads a columns file
    (``key``, :func:`~neowise_lightcurves.cache.columns_key`) and each light-curve job (one
    per group of ``groups``). Not ``staged`` (a run in one job): the rules run once and the
    demo's years only, the run's one job among the former."""
    from . import surveys
    from .cache import (
        COLUMNS_RULE,
        DEMO_YEAR_RULE,
        LIGHTCURVES_RULE,
        MATCH_RULE,
        MEP_RULE,
        used_names,
    )

    def names(which, key=""):
        return sorted(n.removesuffix(".parquet") for n in used_names(shards, radius, which, key))

    jobs = {rule: [""] for rule in once}
    jobs[DEMO_YEAR_RULE] = list(demo_years)
    if not staged:
        return jobs
    neowise = surveys.neowise(years)
    jobs[MATCH_RULE] = names(neowise)
    if key:
        jobs[COLUMNS_RULE] = sorted(set(names(neowise, key)) - set(jobs[MATCH_RULE]))
    if surveys.MEP.name in years:
        jobs[MEP_RULE] = names([surveys.MEP.name])
    jobs[LIGHTCURVES_RULE] = [g.group for g in groups]
    return jobs


def read_records(folder: str | os.PathLike, jobs: dict[str, list[str]]) -> pd.DataFrame:
    """The records of ``jobs`` (``{rule: [job names]}``; a rule run once: ``[""]``) that exist
    under ``folder``: one row per job, ``rule, job`` and :data:`RECORD_COLUMNS`. A job run more
    than once (``--repeat`` in the rule) counts its last run."""
    folder = Path(folder)
    rows = []
    for rule, names in jobs.items():
        for name in names:
            path = folder / (f"{rule}/{name}.tsv" if name else f"{rule}.tsv")
            if not path.is_file():
                continue
            record = pd.read_csv(path, sep="\t").iloc[-1]
            rows.append(
                {"rule": rule, "job": name, **{v: record[k] for k, v in RECORD_COLUMNS.items()}}
            )
    columns = ["rule", "job", *RECORD_COLUMNS.values()]
    frame = pd.DataFrame(rows, columns=columns)
    for c in RECORD_COLUMNS.values():  # "NA" where Snakemake could not measure
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    return frame


def per_rule(records: pd.DataFrame) -> pd.DataFrame:
    """Per rule: ``jobs``, total and largest wall time (s), total CPU time (s), and the largest
    peak RSS of any of its jobs (MB), with the job that had it."""
    g = records.groupby("rule", sort=False)
    out = pd.DataFrame(
        {
            "jobs": g.size(),
            "wall_s_total": g["wall_s"].sum(),
            "wall_s_max": g["wall_s"].max(),
            "cpu_s_total": g["cpu_s"].sum(),
            "max_rss_mb": g["max_rss_mb"].max(),
        }
    )
    biggest = records.loc[records["max_rss_mb"].fillna(-1).groupby(records["rule"]).idxmax()]
    out["largest_job"] = biggest.set_index("rule")["job"]
    return out.reset_index()


def costs_figure(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Two bar charts, per rule: total wall time of its jobs (s) and the largest peak RSS (MB)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .atomic import atomic_path

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.4 * len(table) + 1.6))
    labels = [f"{r} ({n})" for r, n in zip(table["rule"], table["jobs"], strict=True)]
    left.barh(labels, table["wall_s_total"], color="tab:blue")
    left.set_xlabel("wall time of all its jobs (s)")
    right.barh(labels, table["max_rss_mb"], color="tab:red")
    right.set_xlabel("largest peak RSS of one job (MB)")
    right.set_yticklabels([])
    for ax in (left, right):
        ax.invert_yaxis()
        ax.tick_params(labelsize=8)
    fig.suptitle("cost of each rule's jobs (rule (jobs))", fontsize=10)
    fig.subplots_adjust(left=0.22, right=0.98, bottom=0.8 / (0.4 * len(table) + 1.6), wspace=0.08)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
