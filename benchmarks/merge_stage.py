"""The merge stage at scale: the lightcurves jobs, summary, plots, overview and costs, on synthetic
match caches for 10^4-10^6 targets spread uniformly over the sky, 11 years, radius 1".

    python benchmarks/merge_stage.py run --targets 10000 100000 --workdir /tmp/nlc-merge
    nohup python benchmarks/merge_stage.py run --targets 1000000 --workdir /tmp/nlc-merge \\
        --drop-cache > /tmp/nlc-merge/n1000000.out 2>&1 &
    python benchmarks/merge_stage.py table --workdir /tmp/nlc-merge

(``run`` is ``prepare`` then ``measure``, which can also be run apart: ``prepare`` makes the
targets, manifest and caches, ``measure`` runs and measures the merge stage on them.)

For each target count, ``run``: writes a seeded targets CSV and a config (IRSA's bucket as the
catalogue, years 1-11, no per-target files), runs ``snakemake --until manifest``, writes one cache
file per (year, shard) at the path the workflow expects (``cache.cache_name``, the shards'
digests), ~25 detections per target and year (Poisson) in the cache schema and sort order, each
target's rows in its home shard's cache; checks with a dry run that no match job is scheduled;
runs ``snakemake --cores 2`` and times it; reads ``costs.tsv``, the lightcurves jobs' benchmark
records and the output row counts; then reruns one lightcurves job (the median by rows) alone on
the machine. Results go to ``{workdir}/n{N}/result.json``; ``table`` prints the Markdown tables
from every result there. Nothing is read from the bucket.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from neowise_lightcurves import cache, columns, manifest, matching, photometry, sky

REPO = Path(__file__).resolve().parents[1]
IRSA = "s3://nasa-irsa-wise/wise/neowiser/catalogs/p1bs_psd/healpix_k5"
YEARS = list(range(1, 12))
RADIUS_ARCSEC = 1.0
SEED = 20_251_124
#: Mean detections per target and survey year (two visits of ~12 exposures).
PER_YEAR = 25
#: First day of NEOWISE year 1 (2013-12-13) and the length of a survey year (d).
YEAR1_MJD, YEAR_DAYS = 56_639.0, 365.25
#: Half a year between visits, and ~1.6 h (one orbit) between exposures within a visit (d).
VISIT_GAP, EXPOSURE_GAP = 182.6, 0.0655
#: Single-exposure magnitude zero points (W1, W2): NEOWISE's from mid 2017 on.
ZERO_POINTS = (photometry.ZERO_POINT["w1"], photometry.ZERO_POINT["w2"])

#: Snakemake's rerun triggers without ``code`` (see :func:`run_workflow`).
NO_CODE_TRIGGER = ("--rerun-triggers", "mtime", "params", "input", "software-env")
#: The rules of the merge stage that have cost records (``costs`` has none).
MERGE_RULES = ("lightcurves", "summary", "plots", "overview")

_JOB = re.compile(r"^\s*(?:local)?(?:rule|checkpoint) (\w+):$", re.MULTILINE)
_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_STATS = re.compile(r"^(\w+)\s+(\d+)$", re.MULTILINE)


class Case:
    """One target count's working folder and files."""

    def __init__(self, workdir: Path, n: int, top_n: int = 20):
        self.n = n
        self.top_n = top_n  # epoch figures drawn (plots.top_n)
        self.root = workdir / f"n{n}"
        self.outdir = self.root / "results"
        self.config = self.root / "bench-config.yaml"
        self.targets = self.root / "targets.csv"
        self.prepared = self.root / "prepared.json"
        self.result = self.root / "result.json"


def snakemake(case: Case, *args: str, cores: int = 2) -> tuple[float, str]:
    """Run the workflow on ``case`` with ``args``; returns (wall seconds, output). Exits with the
    output's tail if Snakemake fails."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(case.root)]
    cmd += ["--cores", str(cores), *args, "--configfile", str(case.config)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=case.root)
    wall = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode:
        sys.exit(f"snakemake {' '.join(args)} failed in {case.root}:\n{out[-5000:]}")
    return wall, out


def prepare(case: Case) -> None:
    """Targets uniform on the sphere (seeded), the config, and the manifest."""
    shutil.rmtree(case.root, ignore_errors=True)
    case.root.mkdir(parents=True)
    rng = np.random.default_rng([SEED, case.n])
    pd.DataFrame(
        {
            "target_id": [f"T{i}" for i in range(1, case.n + 1)],
            "ra": np.round(rng.uniform(0.0, 360.0, case.n), 7) % 360.0,
            "dec": np.round(np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, case.n))), 7),
        }
    ).to_csv(case.targets, index=False)
    config = {
        "targets": {"source": "file", "path": str(case.targets)},
        "catalog": {"root": IRSA, "years": YEARS},
        "match": {"radius_arcsec": RADIUS_ARCSEC},
        "outputs": {"per_target_formats": []},
        "plots": {"top_n": case.top_n},
        "one_job": False,  # the staged rules (auto would run a small case in one job)
    }
    case.config.write_text(yaml.safe_dump(config))
    snakemake(case, "--until", "manifest")


def _strings(rng: np.random.Generator, n: int, choices: dict[str, float]) -> pa.Array:
    """``n`` strings drawn from ``choices`` (value: probability), by a take from the values."""
    values = pa.array(list(choices), pa.string())
    p = np.array(list(choices.values()))
    return values.take(pa.array(rng.choice(len(p), n, p=p / p.sum()).astype(np.int32)))


def _numbers(rng: np.random.Generator, n: int, choices: dict[float, float]) -> np.ndarray:
    values = np.array(list(choices))
    p = np.array(list(choices.values()))
    return values[rng.choice(len(p), n, p=p / p.sum())]


def _padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")


def _photometry(rng, mean_flux, sigma0, n_rows, band):
    """Fluxes, errors, magnitudes (upper limits at SNR < 2) and SNRs of one band, in DN and mag,
    at the catalogue's precision; ~0.5 % of rows unmeasurable (null)."""
    sig = np.round(sigma0 * rng.lognormal(0.0, 0.1, n_rows), 3)
    flux = np.round(mean_flux + rng.normal(0.0, 1.0, n_rows) * sig, 3)
    null = rng.random(n_rows) < 0.005
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = np.where(flux > 0, np.round(flux / sig, 1), np.nan)
        detected = snr >= 2
        mag = np.round(ZERO_POINTS[band] - 2.5 * np.log10(np.where(detected, flux, 2.0 * sig)), 3)
        sigmag = np.where(detected, np.round(1.0857 * sig / flux, 3), np.nan)
    masks = {"snr": null | np.isnan(snr), "sigmag": null | np.isnan(sigmag)}
    return {
        "flux": pa.array(flux, pa.float64(), mask=null),
        "sigflux": pa.array(sig, pa.float64(), mask=null),
        "mpro": pa.array(mag, pa.float64(), mask=null),
        "sigmpro": pa.array(np.nan_to_num(sigmag), pa.float64(), mask=masks["sigmag"]),
        "snr": pa.array(np.nan_to_num(snr), pa.float64(), mask=masks["snr"]),
    }


def cache_table(
    schema: pa.Schema, ids: np.ndarray, ra: np.ndarray, dec: np.ndarray, year: int, key: list
) -> pa.Table:
    """One year's synthetic matches of the targets ``ids`` (sorted as strings) at ``ra``,
    ``dec``: ~:data:`PER_YEAR` rows each (Poisson) in two visits half a year apart, sorted by
    target, mjd, cntr, in ``schema``. ``key`` seeds the targets' fluxes (the same every year) and,
    with the year, the rows."""
    n = len(ids)
    trng = np.random.default_rng(key)
    w1 = trng.lognormal(np.log(300.0), 0.7, n)
    w2 = w1 * trng.lognormal(np.log(0.6), 0.3, n)
    amplitude = np.where(trng.random(n) < 0.05, trng.uniform(0.1, 0.5, n), 0.0)
    period = trng.uniform(50.0, 2000.0, n)
    rng = np.random.default_rng([*key, year])
    counts = rng.poisson(PER_YEAR, n)
    rows = int(counts.sum())
    t = np.repeat(np.arange(n), counts)
    rank = np.arange(rows) - np.repeat(np.cumsum(counts) - counts, counts)
    first_visit = rng.binomial(counts, 0.5)[t]
    second = rank >= first_visit
    phase = (ra / 360.0 * 180.0)[t]
    mjd = (
        YEAR1_MJD
        + YEAR_DAYS * (year - 1)
        + phase
        + second * VISIT_GAP
        + np.where(second, rank - first_visit, rank) * EXPOSURE_GAP
        + rng.uniform(0.0, 0.01, rows)
    )
    # a position within 1" of the target: exact spherical offset, at 1e-7 deg like the catalogue
    r = np.radians(np.minimum(np.hypot(*rng.normal(0.0, 0.25, (2, rows))), 0.95) / 3600.0)
    theta = rng.uniform(0.0, 2.0 * np.pi, rows)
    d0, a0 = np.radians(dec[t]), np.radians(ra[t])
    d1 = np.arcsin(np.sin(d0) * np.cos(r) + np.cos(d0) * np.sin(r) * np.cos(theta))
    a1 = a0 + np.arctan2(
        np.sin(theta) * np.sin(r) * np.cos(d0), np.cos(r) - np.sin(d0) * np.sin(d1)
    )
    det_ra = np.round(np.degrees(a1) % 360.0, 7) % 360.0
    det_dec = np.round(np.degrees(d1), 7)
    chord = np.linalg.norm(
        sky.unit_vectors(ra[t], dec[t]) - sky.unit_vectors(det_ra, det_dec), axis=-1
    )
    dist = sky.chord_to_arcsec(chord)
    signal = 1.0 + amplitude[t] * np.sin(2.0 * np.pi * mjd / period[t])
    p1 = _photometry(rng, w1[t] * signal, 0.04 * w1[t] + 8.0, rows, 0)
    p2 = _photometry(rng, w2[t] * signal, 0.06 * w2[t] + 15.0, rows, 1)
    index = np.arange(rows, dtype=np.int64)
    scan = ((mjd - YEAR1_MJD) * 15.2).astype(np.int64) % 100_000
    source_id = pc.binary_join_element_wise(
        _padded(scan, 5),
        _strings(rng, rows, {"a": 0.45, "b": 0.45, "r": 0.05, "s": 0.05}),
        _padded(rng.integers(1, 200, rows), 3),
        pa.array(np.full(rows, "-"), pa.string()),
        _padded(index % 999_999 + 1, 6),
        "",
    )
    data = {
        "target_id": pa.array(ids, pa.string()).take(pa.array(t.astype(np.int32))),
        "dist_arcsec": dist,
        "year": pa.array([f"year{year}"], pa.string()).take(pa.array(np.zeros(rows, np.int32))),
        # unique over the run: (year, shard, row) -> one number
        "cntr": (year * 10**13 + key[-1] * 10**8 + index) * 10 + 1,
        "source_id": source_id,
        "mjd": mjd,
        "ra": det_ra,
        "dec": det_dec,
        **{f"w1{k}": v for k, v in p1.items()},
        **{f"w2{k}": v for k, v in p2.items()},
        "cc_flags": _strings(
            rng, rows, {"0000": 0.90, "H000": 0.03, "D000": 0.02, "0h00": 0.02, "00dd": 0.03}
        ),
        "moon_masked": _strings(rng, rows, {"00": 0.95, "10": 0.02, "11": 0.03}),
        "qual_frame": _numbers(rng, rows, {10: 0.85, 5: 0.1, 0: 0.05}).astype(np.int64),
        "qi_fact": _numbers(rng, rows, {1.0: 0.9, 0.5: 0.08, 0.0: 0.02}),
        "saa_sep": np.round(rng.uniform(-10.0, 180.0, rows)),
        "nb": _numbers(rng, rows, {1: 0.95, 2: 0.05}).astype(np.int64),
        "na": _numbers(rng, rows, {0: 0.97, 1: 0.03}).astype(np.int64),
        "ph_qual": _strings(rng, rows, {"AA": 0.6, "AB": 0.15, "BA": 0.1, "AC": 0.1, "AU": 0.05}),
        "w1rchi2": np.round(rng.lognormal(0.0, 0.3, rows), 3),
        "w2rchi2": np.round(rng.lognormal(0.0, 0.3, rows), 3),
        "sso_flg": _numbers(rng, rows, {0: 0.999, 1: 0.001}).astype(np.int64),
        # where each row would be in the catalogue (read only by match_columns)
        "catalog_file": pa.array([f"year{year}/part{key[-1]}.parquet"], pa.string()).take(
            pa.array(np.zeros(rows, np.int32))
        ),
        "catalog_row": index,
    }
    arrays = [pa.array(data[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _write_shard(job: tuple) -> tuple[int, int]:
    """Write one shard's cache file for every year; returns (rows, bytes, CPU seconds)."""
    paths, schema, ids, ra, dec, key, check = job
    rows = size = 0
    cpu = time.process_time()
    for year, path in paths.items():
        table = cache_table(schema, ids, ra, dec, year, key)
        if check:  # the first shard: the sort order the workflow writes
            keys = [("target_id", "ascending"), ("mjd", "ascending"), ("cntr", "ascending")]
            assert table.equals(table.sort_by(keys)), "synthetic cache not sorted"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, row_group_size=matching.CACHE_ROW_GROUP_ROWS)
        rows += table.num_rows
        size += Path(path).stat().st_size
    return rows, size, time.process_time() - cpu


def generate(case: Case) -> dict:
    """Every (year, shard) cache file the manifest names, with each target's rows in its home
    shard's file (other shards' files hold only their own home targets, or nothing)."""
    config = yaml.safe_load(case.config.read_text())
    # a match job caches the base columns and each row's catalogue location; the default
    # cuts name only base columns, so no match_columns job is needed
    defaults = yaml.safe_load((REPO / "config.yaml").read_text())["match"]
    schema = matching.output_schema(columns.base_columns(defaults["columns"]))
    radius = manifest.radius_tag(config["match"]["radius_arcsec"])
    shards = manifest.read_shards(case.outdir / "manifest/shards.tsv")
    homes = pd.read_parquet(
        case.outdir / "manifest/partitions.parquet",
        columns=["target_id", "ra", "dec", "shard"],
        filters=[("home", "==", True)],
    )
    homes["target_id"] = homes["target_id"].astype(object)
    by_shard = {str(k): g for k, g in homes.groupby("shard", sort=False)}
    jobs = []
    for i, s in enumerate(shards):
        group = by_shard.get(s.shard, homes.iloc[:0])
        group = group.sort_values("target_id", kind="stable")
        paths = {
            y: str(case.outdir / "cache" / cache.cache_name(radius, f"year{y}", s.shard, s.digest))
            for y in YEARS
        }
        ids = group["target_id"].to_numpy(dtype=object)
        ra, dec = group["ra"].to_numpy(float), group["dec"].to_numpy(float)
        jobs.append((paths, schema, ids, ra, dec, [SEED, case.n, i], i == 0))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(_write_shard, jobs, chunksize=1))
    wall = time.perf_counter() - t0
    rows, size, cpu = (sum(x) for x in zip(*done, strict=True))
    return {
        "cache_files": len(jobs) * len(YEARS),
        "cache_rows": rows,
        "cache_bytes": size,
        "generate_s": wall,
        "generate_cpu_s": cpu,
    }


def _job_spans(output: str, launched: datetime) -> dict[str, float]:
    """From Snakemake's log: seconds from its launch to the first job's start, and from then to
    the last job's end (its timestamps have a resolution of one second)."""
    stamps = [
        datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        for m in map(_STAMP.match, output.splitlines())
        if m
    ]
    if not stamps:
        return {}
    return {
        "startup_s": (stamps[0] - launched).total_seconds(),
        "jobs_span_s": (stamps[-1] - stamps[0]).total_seconds(),
    }


def dry_run(case: Case, *args: str) -> tuple[dict[str, int], dict[str, int]]:
    """The jobs a dry run plans, by rule, and the reasons given for the match jobs (counted)."""
    _, out = snakemake(case, "-n", *args)
    table = out.split("Job stats:", 1)[1].split("\n\n", 1)[0] if "Job stats:" in out else ""
    planned = {k: int(v) for k, v in _STATS.findall(table)}
    reasons: dict[str, int] = {}
    for block in out.split("rule match:")[1:]:
        found = re.search(r"^\s*reason: (.*)$", block, re.MULTILINE)
        key = found.group(1) if found else "?"
        reasons[key] = reasons.get(key, 0) + 1
    if planned.get("match"):
        (case.root / "dry-run.txt").write_text(out)
    return planned, reasons


def run_workflow(case: Case) -> dict:
    """A dry run (no match job may be scheduled), then the real run, timed.

    Snakemake (9.x) reruns a job whose ``script:`` file is newer than its outputs (the code
    trigger), so editing or checking out ``scripts/match.py`` after the caches were written
    schedules every match job. That is recorded (``match_scheduled``), and the run then goes on
    with the code trigger off (:data:`NO_CODE_TRIGGER`) if that was the only reason.
    """
    planned, reasons = dry_run(case)
    extra: tuple[str, ...] = ()
    result = {"match_scheduled": reasons}
    if planned.get("match"):
        print(f"dry run: {planned['match']} match jobs scheduled: {reasons}", flush=True)
        extra = NO_CODE_TRIGGER
        planned, again = dry_run(case, *extra)
        if planned.get("match"):
            sys.exit(f"{planned['match']} match jobs scheduled even so ({again}); see dry-run.txt")
    result["extra_args"] = list(extra)
    load_before, launched = os.getloadavg()[0], datetime.now().replace(microsecond=0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, out = snakemake(case, *extra)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = os.getloadavg()[0]
    (case.root / "run.txt").write_text(out)
    ran = {}
    for rule in _JOB.findall(out):
        ran[rule] = ran.get(rule, 0) + 1
    if ran.get("match"):
        sys.exit(f"{ran['match']} match jobs ran; see {case.root / 'run.txt'}")
    return {
        **result,
        "planned": planned,
        "ran": ran,
        "merge_wall_s": wall,
        "load_1min": [load_before, load_after],
        # Snakemake and all its jobs (the jobs' own CPU time is in their benchmark records)
        "run_cpu_s": sum(getattr(after, k) - getattr(before, k) for k in ("ru_utime", "ru_stime")),
        **_job_spans(out, launched),
    }


def _record(path: Path) -> dict:
    r = pd.read_csv(path, sep="\t").iloc[-1]
    return {
        "wall_s": float(r["s"]),
        "max_rss_mb": float(r["max_rss"]),
        "cpu_s": float(r["cpu_time"]),
    }


def cache_paths(case: Case) -> dict[tuple[str, int], Path]:
    """The cache file of every (shard, year) in the manifest."""
    radius = manifest.radius_tag(yaml.safe_load(case.config.read_text())["match"]["radius_arcsec"])
    return {
        (s.shard, y): case.outdir
        / "cache"
        / cache.cache_name(radius, f"year{y}", s.shard, s.digest)
        for s in manifest.read_shards(case.outdir / "manifest/shards.tsv")
        for y in YEARS
    }


def collect(case: Case) -> dict:
    """Per-rule costs, each lightcurves job's rows (in and out) and record, and bytes on disk."""
    costs = pd.read_csv(case.outdir / "costs.tsv", sep="\t")
    jobs = job_rows(case)
    return {
        "costs": costs.to_dict(orient="records"),
        "jobs": jobs,
        "rows": sum(j["rows_out"] for j in jobs),
        "bytes": {
            k: sum(p.stat().st_size for p in (case.outdir / k).rglob("*") if p.is_file())
            for k in ("cache", "lightcurves.parquet", "binned.parquet", "group_summaries")
        },
    }


def job_rows(case: Case, finished_only: bool = False) -> list[dict]:
    """Each lightcurves job's group, targets, caches read, rows read and written, and cost
    record (``finished_only``: only the jobs that have both, as during a run)."""
    cache_rows = {k: pq.read_metadata(p).num_rows for k, p in cache_paths(case).items()}
    jobs = []
    for g in manifest.read_groups(case.outdir / "manifest/groups.tsv"):
        out = case.outdir / "lightcurves.parquet" / f"{g.group}.parquet"
        record = case.outdir / "benchmarks/lightcurves" / f"{g.group}.tsv"
        if finished_only and not (out.is_file() and record.is_file()):
            continue
        jobs.append(
            {
                "job": g.group,
                "n_targets": g.n_targets,
                "reads": len(g.reads),
                "rows_in": sum(cache_rows[(r, y)] for r in g.reads for y in YEARS),
                "rows_out": pq.read_metadata(out).num_rows,
                **_record(record),
            }
        )
    return jobs


def snapshot(case: Case) -> str:
    """The lightcurves jobs finished so far in a running (or stopped) case, as a Markdown table,
    kept in ``{case.root}/partial.json``."""
    jobs = job_rows(case, finished_only=True)
    n_groups = len(manifest.read_groups(case.outdir / "manifest/groups.tsv"))
    case.root.joinpath("partial.json").write_text(json.dumps(jobs, indent=1))
    lines = [
        f"{case.n:,} targets: {len(jobs)} of {n_groups} lightcurves jobs finished",
        "",
        "| job | targets | caches read | rows read | rows out | wall s | CPU s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for j in sorted(jobs, key=lambda j: j["rows_in"]):
        lines.append(
            f"| {j['job']} | {j['n_targets']:,} | {j['reads']} | {j['rows_in']:,} "
            f"| {j['rows_out']:,} | {j['wall_s']:.1f} | {j['cpu_s']:.1f} | {j['max_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def isolated_job(case: Case, jobs: list[dict]) -> dict:
    """Rerun the median lightcurves job (by rows read) alone, on one core; its benchmark record
    is restored afterwards (costs.tsv was made from the run's)."""
    job = sorted(jobs, key=lambda j: j["rows_in"])[len(jobs) // 2]
    record = case.outdir / "benchmarks/lightcurves" / f"{job['job']}.tsv"
    kept = record.read_bytes()
    target = f"results/lightcurves.parquet/{job['job']}.parquet"
    snakemake(case, "-f", target, *NO_CODE_TRIGGER, cores=1)
    alone = _record(record)
    record.write_bytes(kept)
    return {**{k: job[k] for k in ("job", "n_targets", "rows_in", "rows_out", "reads")}, **alone}


def prepare_case(case: Case) -> dict:
    """Targets, config, manifest and caches of one target count (``case.prepared``)."""
    print(f"== {case.n:,} targets in {case.root}: manifest and caches", flush=True)
    t0 = time.perf_counter()
    prepare(case)
    result = {"targets": case.n, "manifest_s": time.perf_counter() - t0}
    result.update(generate(case))
    case.prepared.write_text(json.dumps(result, indent=1))
    print(
        f"caches: {result['cache_files']} files, {result['cache_rows']:,} rows, "
        f"{result['cache_bytes'] / 1e9:.2f} GB in {result['generate_s']:.0f} s "
        f"({result['generate_cpu_s']:.0f} CPU s)",
        flush=True,
    )
    return result


def measure_case(case: Case, drop_cache: bool) -> dict:
    """Run and measure the merge stage of a prepared case; the result goes to ``case.result``."""
    print(f"== {case.n:,} targets in {case.root}: merge stage", flush=True)
    result = json.loads(case.prepared.read_text())
    snakemake(case, "--until", "manifest")  # the current workflow's manifest, if it changed
    missing = [str(p) for p in cache_paths(case).values() if not p.is_file()]
    if missing:
        sys.exit(f"{len(missing)} cache files missing (e.g. {missing[0]}): prepare again")
    result.update(run_workflow(case))
    print(f"merge stage: {result['merge_wall_s']:.1f} s; jobs {result['ran']}", flush=True)
    result.update(collect(case))
    result["isolated"] = isolated_job(case, result["jobs"])
    print(f"isolated job: {result['isolated']}", flush=True)
    if drop_cache:
        shutil.rmtree(case.outdir / "cache")
        result["cache_dropped"] = True
    case.result.write_text(json.dumps(result, indent=1))
    return result


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least squares ``y = a + b x``: (a, b, R^2)."""
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    return a, b, 1.0 - resid.var() / y.var()


def tables(results: list[dict]) -> str:
    """The Markdown tables: the merge stage per target count, and per lightcurves job."""
    lines = [
        "| targets | rows | lightcurves jobs | merge stage wall (s) | largest lightcurves job (s) "
        "| largest job peak RSS (MB, rule) | ms per 1,000 rows (lightcurves jobs, wall (CPU)) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        costs = pd.DataFrame(r["costs"]).set_index("rule")
        merge = costs.loc[[c for c in MERGE_RULES if c in costs.index]]
        top = merge["max_rss_mb"].idxmax()
        lc = costs.loc["lightcurves"]
        lines.append(
            f"| {r['targets']:,} | {r['rows']:,} | {int(lc['jobs'])} | {r['merge_wall_s']:.1f} "
            f"| {lc['wall_s_max']:.1f} | {merge.loc[top, 'max_rss_mb']:.0f} ({top}) "
            f"| {1e3 * lc['wall_s_total'] / (r['rows'] / 1e3):.1f} "
            f"({1e3 * lc['cpu_s_total'] / (r['rows'] / 1e3):.1f} CPU) |"
        )
    lines += [
        "",
        "| targets | job rows read (median) | job wall s (min / median / max) "
        "| job CPU s (median / max) | job peak RSS MB (max) | jobs' wall total / stage wall "
        "| jobs' CPU s total | Snakemake + costs job CPU s | load avg before / after "
        "| alone: job, rows read, rows out, wall s (CPU s), MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    everything = []
    for r in results:
        jobs = pd.DataFrame(r["jobs"])
        wall, cpu = jobs["wall_s"], jobs["cpu_s"]
        everything.append(jobs)
        iso = r["isolated"]
        all_jobs_cpu = sum(c["cpu_s_total"] for c in r["costs"] if c["rule"] in MERGE_RULES)
        own = f"{r['run_cpu_s'] - all_jobs_cpu:.0f}" if "run_cpu_s" in r else ""
        lines.append(
            f"| {r['targets']:,} | {jobs['rows_in'].median():,.0f} "
            f"| {wall.min():.1f} / {wall.median():.1f} / {wall.max():.1f} "
            f"| {cpu.median():.1f} / {cpu.max():.1f} | {jobs['max_rss_mb'].max():.0f} "
            f"| {wall.sum() / r['merge_wall_s']:.2f} | {cpu.sum():.0f} | {own} "
            f"| {r['load_1min'][0]:.1f} / {r['load_1min'][1]:.1f} "
            f"| {iso['job']}, {iso['rows_in']:,}, {iso['rows_out']:,}, {iso['wall_s']:.1f} "
            f"({iso['cpu_s']:.1f}), {iso['max_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "| targets | rule | jobs | wall s total | wall s max | CPU s total | peak RSS MB (job) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for c in r["costs"]:
            if c["rule"] in MERGE_RULES:
                job = c["largest_job"] if isinstance(c["largest_job"], str) else ""
                lines.append(
                    f"| {r['targets']:,} | {c['rule']} | {c['jobs']} | {c['wall_s_total']:.1f} "
                    f"| {c['wall_s_max']:.1f} | {c['cpu_s_total']:.1f} "
                    f"| {c['max_rss_mb']:.0f} {job} |"
                )
    jobs = pd.concat(everything, ignore_index=True)
    iso = pd.DataFrame([r["isolated"] for r in results])
    lines.append("")
    for label, frame in (
        (f"all {len(jobs)} lightcurves jobs (2 at a time)", jobs),
        (f"the {len(iso)} jobs run alone", iso),
    ):
        if len(frame) < 2:
            continue
        for rows, name in (("rows_out", "rows out"), ("rows_in", "rows read")):
            x = frame[rows].to_numpy(float) / 1e6
            for what, column in (("wall s", "wall_s"), ("CPU s", "cpu_s")):
                a, b, r2 = _fit(x, frame[column].to_numpy(float))
                lines.append(
                    f"Fit over {label}: {what} = {a:.2f} + {b:.2f} x ({name} / 10^6), "
                    f"R^2 = {r2:.3f}."
                )
    return "\n".join(lines)


def load(workdir: Path) -> list[dict]:
    """Every ``result.json`` under ``workdir``, by target count."""
    found = [json.loads(p.read_text()) for p in workdir.glob("n*/result.json")]
    return sorted(found, key=lambda r: r["targets"])


def main(argv=None) -> None:
    """Run the benchmark's command in ``argv``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    helps = {
        "run": "prepare, then measure, each target count in turn; print the tables",
        "prepare": "targets, manifest and synthetic caches only",
        "measure": "the merge stage of prepared target counts; print the tables",
        "table": "print the tables from the results under --workdir",
        "snapshot": "the lightcurves jobs finished so far in a running case",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text)
        p.add_argument("--workdir", type=Path, default=Path("/tmp/nlc-merge"))
        if name != "table":
            p.add_argument("--targets", type=int, nargs="+", default=[10_000, 100_000])
        if name in ("run", "measure"):
            p.add_argument("--drop-cache", action="store_true", help="remove the caches after")
        if name in ("run", "prepare"):
            p.add_argument("--top-n", type=int, default=20, help="plots.top_n (default 20)")
    args = ap.parse_args(argv)
    for n in getattr(args, "targets", []):
        case = Case(args.workdir, n, getattr(args, "top_n", 20))
        if args.command in ("run", "prepare"):
            prepare_case(case)
        if args.command in ("run", "measure"):
            measure_case(case, args.drop_cache)
        if args.command == "snapshot":
            print(snapshot(case))
    if args.command not in ("prepare", "snapshot"):
        print(tables(load(args.workdir)))


if __name__ == "__main__":
    main()
