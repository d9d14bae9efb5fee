"""The workflow end to end on a dense field, for several ``match.max_shard_targets``: wall time,
jobs, every job's peak memory, and exactness against brute force.

    S=/tmp/nlc-field48 W=/tmp/nlc-df
    python benchmarks/dense_field.py generate --sky $S --jobs 2      # ~25 min, ~19 GB
    python benchmarks/dense_field.py targets --sky $S --out $W/targets.csv
    python benchmarks/dense_field.py truth --sky $S --targets $W/targets.csv \
        --out $W/truth.parquet
    python benchmarks/dense_field.py run --sky $S --workdir $W --bounds 5000 20000 100000 1000000000
    python benchmarks/dense_field.py report --workdir $W          # the tables again, from $W

(``all --sky $S --workdir $W`` does the four steps in turn; each
step reuses what an earlier one left: the sky's files, ``targets.csv``, ``truth.parquet``.)

**The field.** 48 adjacent order-5 partitions (k5 6784-6831, the first three order-3 children
of the order-2 pixel 106, which holds (150, 2): RA 136-156 deg, Dec -8 to 4 deg, 161 deg^2),
written by ``read_path.py generate --order random`` (rows shuffled within each file, so the
row groups' ``ra``/``dec`` statistics prune nothing): ``--rows`` rows per partition and year
(default 700,000: ~30,000 sources per partition seen ~24 times a year), years 1 and 2, all 143
columns, row groups of 100,000 rows. The 48 partitions lie in one order-2 pixel, so with no
splitting the whole field is one shard.

**The targets.** 200,000 in the field, radius 1": half on real sources (distinct ones, drawn
uniformly from ``sources.parquet``; their detections scatter by 0.2"), half at uniform random
positions in the field (a detection within 1" of one is rare). About 4,200 a partition: the
default ``shard_order`` 2 with ``max_shard_targets`` 5,000 gives 48 order-5 shards, 20,000
(the default) 12 order-4 shards, 100,000 three order-3 shards, 10**9 one order-2 shard (the
old behaviour), plus small shards for the partitions just off the field that edge cones touch
(no files there: their match jobs read nothing). Light-curve jobs are one per group of
targets (the targets whose own positions lie in one pixel, split by the same bound).

**The truth.** Every (target, ``cntr``) pair within 1" over every row of both years, from
astropy's ``SkyCoord.search_around_sky`` (the targets against each partition-year file's
``ra``/``dec``, one file at a time), not the project's matcher (it needs scipy, a dependency
of the project since the binning's clipping uses its Student-t quantiles). The workflow runs
with the cuts off (``match.cuts: ""``), so its light curves must hold exactly these pairs,
each once.

**A run.** ``snakemake -s Snakefile -d {workdir}/b{bound} --cores 2 --configfile cfg.yaml`` in
a fresh folder, as ``tests/workflow_helpers.py`` runs it (``per_target_formats: []``,
``plots.top_n: 5``). Per job: Snakemake's ``benchmark:`` record (``s``, ``max_rss``) under
``{outdir}/benchmarks/``; per run: its wall time, the largest process of the whole run
(``getrusage(RUSAGE_CHILDREN)``: Snakemake itself and every job), and, sampled every 0.5 s, the
most memory the run's processes held at once. A watchdog kills the run (its whole process
group) if that sum passes ``--kill-above-gb`` (default 20): recorded as the result.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import read_path  # a sibling: run as a script, this folder is on the path

REPO = Path(__file__).resolve().parents[1]

#: The field: 48 order-5 partitions from this one (the order-2 pixel 106's first 48 children).
FIRST = 6784
N_PARTITIONS = 48
YEARS = read_path.YEARS
RADIUS_ARCSEC = 1.0
ROW_GROUP_SIZE = 100_000
BOUNDS = (5000, 20000, 100_000, 10**9)


def field_partitions() -> list[int]:
    return list(range(FIRST, FIRST + N_PARTITIONS))


def _files(sky: Path) -> list[tuple[int, int, Path]]:
    """(year, k5, path) of every file of the field."""
    return [
        (year, k5, read_path.year_folder(sky, year) / read_path.partition_file(k5))
        for year in YEARS
        for k5 in field_partitions()
    ]


# ------------------------------------------------------------------------------ generate
def generate(sky: Path, rows: int, jobs: int) -> dict:
    """The field's sky (files already there are kept); its generation time and size."""
    sky.mkdir(parents=True, exist_ok=True)
    written = sum(not p.exists() for _, _, p in _files(sky))
    t0 = time.perf_counter()
    read_path.generate(
        sky, N_PARTITIONS, rows, ROW_GROUP_SIZE, seed=5, order="random", first=FIRST, jobs=jobs
    )
    seconds = time.perf_counter() - t0
    sizes = [p.stat().st_size for _, _, p in _files(sky)]
    n_rows = _row_count(sky)
    out = {
        "rows_per_partition_year": rows,
        "files": len(sizes),
        "files_written": written,  # the others were there already
        "rows": n_rows,
        "bytes": sum(sizes),
        "bytes_per_row": sum(sizes) / n_rows,
        "seconds": seconds,
    }
    print(json.dumps(out), flush=True)
    return out


def _row_count(sky: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for _, _, p in _files(sky))


# ------------------------------------------------------------------------------ targets
def write_targets(sky: Path, path: Path, n: int, on_source: float, seed: int = 3) -> None:
    """``n`` targets: ``round(n * on_source)`` on distinct real sources, the rest uniform on the
    sphere inside the field; ids ``t000000`` ... in random order of the two kinds."""
    import hpgeom

    rng = np.random.default_rng(seed)
    src = pd.read_parquet(sky / "sources.parquet")
    n_on = round(n * on_source)
    on = src.iloc[rng.choice(len(src), n_on, replace=False)]
    parts = np.array(field_partitions())
    ra_edge, dec_edge = hpgeom.boundaries(32, parts, step=8)
    ra_lo, ra_hi = float(ra_edge.min()), float(ra_edge.max())
    sin_lo, sin_hi = np.sin(np.radians([dec_edge.min(), dec_edge.max()]))
    ra, dec = [], []
    while sum(len(r) for r in ra) < n - n_on:
        r = rng.uniform(ra_lo, ra_hi, n)
        d = np.degrees(np.arcsin(rng.uniform(sin_lo, sin_hi, n)))
        keep = np.isin(hpgeom.angle_to_pixel(32, r, d), parts)
        ra.append(r[keep])
        dec.append(d[keep])
    ra = np.concatenate([on["ra"].to_numpy(), np.concatenate(ra)[: n - n_on]])
    dec = np.concatenate([on["dec"].to_numpy(), np.concatenate(dec)[: n - n_on]])
    kind = np.array(["source"] * n_on + ["random"] * (n - n_on))
    order = rng.permutation(n)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "target_id": [f"t{i:06d}" for i in range(n)],
            "ra": ra[order],
            "dec": dec[order],
            "kind": kind[order],
        }
    ).to_csv(path, index=False, float_format="%.10f")
    print(f"{n:,} targets ({n_on:,} on sources) -> {path}", flush=True)


# ------------------------------------------------------------------------------ truth
def truth(sky: Path, targets_csv: Path, out: Path) -> dict:
    """Every (target, cntr) pair within the radius over every row of the field, by astropy's
    ``search_around_sky``, one partition-year file at a time."""
    import astropy.units as u
    import pyarrow.parquet as pq
    import scipy.spatial  # noqa: F401  (astropy's search_around_sky needs it)
    from astropy.coordinates import SkyCoord

    t0 = time.perf_counter()
    targets = pd.read_csv(targets_csv)
    tc = SkyCoord(targets["ra"].to_numpy() * u.deg, targets["dec"].to_numpy() * u.deg)
    ids = targets["target_id"].to_numpy(dtype=object)
    pieces, n_rows = [], 0
    for year, k5, path in _files(sky):
        t = pq.read_table(path, columns=["cntr", "ra", "dec"])
        n_rows += t.num_rows
        rc = SkyCoord(t["ra"].to_numpy() * u.deg, t["dec"].to_numpy() * u.deg)
        # idx of the points searched around (the rows) first, then of tc (the targets)
        ri, ti, sep, _ = tc.search_around_sky(rc, RADIUS_ARCSEC * u.arcsec)
        # search_around_sky returns pairs within the chord of the radius; keep the angular cut
        ok = sep.to_value(u.arcsec) <= RADIUS_ARCSEC
        pieces.append(
            pd.DataFrame(
                {
                    "target_id": ids[ti[ok]],
                    "cntr": t["cntr"].to_numpy()[ri[ok]],
                    "sep_arcsec": sep.to_value(u.arcsec)[ok],
                }
            )
        )
        print(f"year{year} k5={k5}: {t.num_rows:,} rows, {ok.sum():,} pairs", flush=True)
    frame = pd.concat(pieces, ignore_index=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out)
    result = {
        "rows": n_rows,
        "pairs": len(frame),
        "targets_with_pairs": int(frame["target_id"].nunique()),
        "seconds": time.perf_counter() - t0,
    }
    (out.parent / "truth.json").write_text(json.dumps(result) + "\n")
    print(json.dumps(result), flush=True)
    return result


def _keys(target_id, cntr, codes: dict) -> np.ndarray:
    """One int64 per (target, cntr): target code in the high bits (cntr < 2**42 here)."""
    code = pd.Series(target_id).map(codes).to_numpy(dtype=np.int64)
    return code * (1 << 42) + np.asarray(cntr, dtype=np.int64)


def exactness(results: Path, truth_path: Path, n_targets: int) -> dict:
    """The light curves' (target_id, cntr) pairs against the truth's; the summary's rows."""
    expected = pd.read_parquet(truth_path, columns=["target_id", "cntr"])
    got = pd.read_parquet(results / "lightcurves.parquet", columns=["target_id", "cntr"])
    codes = {t: i for i, t in enumerate(pd.unique(pd.concat([expected, got])["target_id"]))}
    assert max(expected["cntr"].max(), got["cntr"].max()) < 1 << 42
    want = _keys(expected["target_id"].to_numpy(), expected["cntr"], codes)
    have = _keys(got["target_id"].astype(str).to_numpy(), got["cntr"], codes)
    have_unique = np.unique(have)
    missing = np.setdiff1d(want, have_unique)
    extra = np.setdiff1d(have_unique, want)
    summary = pd.read_parquet(results / "summary.parquet", columns=["target_id", "n_detections"])
    return {
        "truth_pairs": len(want),
        "output_rows": len(have),
        "duplicate_rows": len(have) - len(have_unique),
        "missing": len(missing),
        "extra": len(extra),
        "summary_rows": len(summary),
        "summary_targets_unique": int(summary["target_id"].nunique()),
        "summary_detections": int(summary["n_detections"].sum()),
        "targets_with_detections": int((summary["n_detections"] > 0).sum()),
        "exact": bool(
            len(missing) == 0
            and len(extra) == 0
            and len(have) == len(have_unique)
            and len(summary) == n_targets == summary["target_id"].nunique()
            and int(summary["n_detections"].sum()) == len(want)
        ),
    }


# ------------------------------------------------------------------------------ a run
class Watchdog(threading.Thread):
    """Samples the memory of a process and its descendants every ``every`` s; kills the
    process group when their sum passes ``limit_bytes``."""

    def __init__(self, pid: int, limit_bytes: float, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.limit, self.every = pid, limit_bytes, every
        self.peak_sum = self.peak_one = 0
        self.peak_one_what = ""
        self.loads = []
        self.killed_at = None
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.done.wait(self.every):
            total = one = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            biggest = None
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                if rss > one:
                    one, biggest = rss, p
            if one > self.peak_one and biggest is not None:
                try:  # which rule's script (".../.snakemake/scripts/tmpXXXX.match.py")
                    name = next((a for a in biggest.cmdline() if a.endswith(".py")), "snakemake")
                    self.peak_one_what = name.rsplit(".", 2)[-2] if "/scripts/" in name else name
                except psutil.Error:
                    pass
            self.peak_sum, self.peak_one = max(self.peak_sum, total), max(self.peak_one, one)
            self.loads.append(os.getloadavg()[0])  # the machine's, other work included
            if total > self.limit and self.killed_at is None:
                self.killed_at = total
                os.killpg(self.pid, signal.SIGKILL)


def job_records(outdir: Path) -> pd.DataFrame:
    """Every job's benchmark record under ``{outdir}/benchmarks``: rule, job, wall (s), peak
    RSS (MB), CPU time (s)."""
    rows = []
    folder = outdir / "benchmarks"
    for path in sorted(folder.rglob("*.tsv")):
        rel = path.relative_to(folder)
        rule = rel.parts[0] if len(rel.parts) > 1 else path.stem
        job = str(rel.with_suffix("")).removeprefix(f"{rule}/") if len(rel.parts) > 1 else ""
        record = pd.read_csv(path, sep="\t").iloc[-1]
        rows.append(
            {
                "rule": rule,
                "job": job,
                "wall_s": pd.to_numeric(record["s"], errors="coerce"),
                "max_rss_mb": pd.to_numeric(record["max_rss"], errors="coerce"),
                "cpu_s": pd.to_numeric(record["cpu_time"], errors="coerce"),
            }
        )
    return pd.DataFrame(rows, columns=["rule", "job", "wall_s", "max_rss_mb", "cpu_s"])


def code_version() -> str:
    """The project's commit, and whether its work tree differs from it (the workflow's code
    can change between runs)."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "src", "workflow", "scripts", "Snakefile")
    return git("rev-parse", "--short", "HEAD") + (" (modified)" if dirty else "")


#: The rules in the order they run, for the tables.
RULES = ("targets", "manifest", "match", "lightcurves", "summary", "plots", "overview")


def phases(log_path: Path) -> dict:
    """Each rule's first job start and last job end, in s from the first job's start, from
    Snakemake's log (its timestamps have 1 s resolution)."""
    import re

    stamp = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]{8} \d{4})\]$")
    start = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
    end = re.compile(r"^Finished jobid: \d+ \(Rule: (\w+)\)$")
    out, now, t0 = {}, None, None
    for line in log_path.read_text().splitlines():
        if m := stamp.match(line):
            now = time.mktime(time.strptime(m.group(1), "%a %b %d %H:%M:%S %Y"))
            t0 = now if t0 is None else t0
        elif (m := start.match(line)) and now is not None:
            out.setdefault(m.group(1), [now - t0, now - t0])
        elif (m := end.match(line)) and now is not None and m.group(1) in out:
            out[m.group(1)][1] = now - t0
    return out


def run_one(sky: Path, workdir: Path, bound: int, kill_above_gb: float) -> dict:
    """One end-to-end run with ``match.max_shard_targets: bound``, in ``{workdir}/b{bound}``."""
    import yaml

    from neowise_lightcurves import manifest

    wd = workdir / f"b{bound}"
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    targets_csv = workdir / "targets.csv"
    n_targets = len(pd.read_csv(targets_csv, usecols=["target_id"]))
    cfg = {
        "targets": {
            "source": "file",
            "path": str(targets_csv),
            "id_column": "target_id",
            "ra_column": "ra",
            "dec_column": "dec",
        },
        "catalog": {"root": str(sky), "years": list(YEARS)},
        "match": {"radius_arcsec": RADIUS_ARCSEC, "cuts": "", "max_shard_targets": bound},
        "outputs": {"per_target_formats": []},
        "plots": {"top_n": 5},
        "one_job": False,  # the staged rules, whatever the sample's size
    }
    (wd / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    snakemake = Path(sys.executable).with_name("snakemake")
    cmd = [str(snakemake), "-s", str(REPO / "Snakefile"), "-d", str(wd), "--cores", "2"]
    cmd += ["--configfile", str(wd / "cfg.yaml")]  # last: it takes every argument after it
    # a SIGTERM from outside (another session's clean-up) is recorded, not silently fatal
    signals = []
    signal.signal(signal.SIGTERM, lambda signum, frame: signals.append(time.perf_counter()))
    t0 = time.perf_counter()
    with open(wd / "snakemake.log", "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=wd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        dog = Watchdog(proc.pid, kill_above_gb * 1e9)
        dog.start()
        rc = proc.wait()
        dog.done.set()
    wall = time.perf_counter() - t0
    results = wd / "results"
    records = job_records(results)
    records.to_csv(wd / "jobs.csv", index=False)
    shards_path = results / "manifest/shards.tsv"
    shards = manifest.read_shards(shards_path) if shards_path.exists() else []
    groups_path = results / "manifest/groups.tsv"
    groups = (
        manifest.read_groups(groups_path)
        if groups_path.exists() and hasattr(manifest, "read_groups")
        else []
    )
    orders = sorted({manifest.parse_shard(s.shard)[0] for s in shards})
    out = {
        "bound": bound,
        "rc": rc,
        "wall_s": wall,
        "killed_by_watchdog_gb": None if dog.killed_at is None else dog.killed_at / 1e9,
        "sigterm_from_outside_at_s": [round(t - t0, 1) for t in signals],
        "largest_process_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "sampled_peak_sum_mb": dog.peak_sum / 2**20,
        "sampled_peak_one_mb": dog.peak_one / 2**20,
        "sampled_peak_one_rule": dog.peak_one_what,
        "mean_load_1min": float(np.mean(dog.loads)) if dog.loads else None,
        "shards": len(shards),
        "shard_orders": orders,
        # light-curve jobs: one per group of targets (groups.tsv) or, before groups, per shard
        # holding some target's position
        "lightcurve_units": len(groups) if groups else sum(1 for s in shards if s.n_home),
        "group_orders": sorted({manifest.parse_shard(g.group)[0] for g in groups}),
        "most_targets_in_a_group": max((g.n_targets for g in groups), default=0),
        "code": code_version(),
        "shards_with_field_partitions": sum(
            1 for s in shards if set(s.partitions) & set(field_partitions())
        ),
        "most_targets_in_a_shard": max((s.n_targets for s in shards), default=0),
        "jobs": records.groupby("rule").size().to_dict(),
        "phases": phases(wd / "snakemake.log"),
        "cache_bytes": sum(p.stat().st_size for p in (results / "cache").rglob("*.parquet")),
    }
    if rc == 0:
        out["exactness"] = exactness(results, workdir / "truth.parquet", n_targets)
    else:
        tail = (wd / "snakemake.log").read_text().splitlines()[-40:]
        out["error_tail"] = "\n".join(tail)
    (wd / "result.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def run(sky: Path, workdir: Path, bounds: list[int], kill_above_gb: float) -> None:
    """Each bound in a fresh Python (so that its largest-process figure is its own)."""
    for bound in bounds:
        cmd = [sys.executable, __file__, "run-one", "--sky", str(sky), "--workdir", str(workdir)]
        cmd += ["--bound", str(bound), "--kill-above-gb", str(kill_above_gb)]
        cmd += ["--partitions", str(N_PARTITIONS)]
        print(f"bound {bound:,}: running ...", flush=True)
        subprocess.run(cmd, check=True)
        r = json.loads((workdir / f"b{bound}" / "result.json").read_text())
        ex = r.get("exactness", {}).get("exact")
        print(f"bound {bound:,}: rc {r['rc']}, {r['wall_s']:.0f} s, exact {ex}", flush=True)
    report(workdir)


# ------------------------------------------------------------------------------ report
def _mb(v) -> str:
    return "" if pd.isna(v) else f"{v:,.0f}"


def _makespan(walls: np.ndarray, cores: int) -> float:
    """Longest-first list scheduling of independent jobs of ``walls`` seconds on ``cores``."""
    loads = np.zeros(cores)
    for w in np.sort(walls)[::-1]:
        loads[loads.argmin()] += w
    return float(loads.max())


def modelled_wall(records: pd.DataFrame, cores: int) -> float:
    """A run's wall on ``cores`` cores, modelled from its jobs' measured wall times: the serial
    jobs (targets, manifest, summary, then the longer of plots and overview) plus the match
    jobs' makespan plus the light-curve jobs' (stages one after the other, each job on one
    core, no Snakemake overhead: a lower bound for the stages' overlap, an upper one for it)."""
    wall = records.groupby("rule")["wall_s"]
    serial = sum(wall.sum().get(rule, 0.0) for rule in ("targets", "manifest", "summary"))
    serial += max(wall.max().get("plots", 0.0), wall.max().get("overview", 0.0))
    stages = [records.loc[records["rule"] == rule, "wall_s"].to_numpy() for rule in RULES[2:4]]
    return serial + sum(_makespan(w, cores) for w in stages if len(w))


def report(workdir: Path) -> None:
    """The Markdown tables of every run under ``workdir``."""
    runs = []
    for path in workdir.glob("b*/result.json"):
        runs.append(json.loads(path.read_text()))
    runs.sort(key=lambda r: r["bound"])
    lines = []
    for name in ("generate.json", "truth.json"):
        if (workdir / name).exists():
            lines.append(f"{name.removesuffix('.json')}: {(workdir / name).read_text().strip()}")
    lines += [
        "",
        "| max_shard_targets | result | wall (s) | shards (orders) | match jobs | lightcurves jobs "
        "| largest match job (MB) | largest lightcurves job (MB) | largest job (MB) | largest "
        "process (MB) | most at once (MB) | CPU of all jobs (s) | exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        records = pd.read_csv(workdir / f"b{r['bound']}" / "jobs.csv")
        by = records.groupby("rule")["max_rss_mb"].max()
        ex = r.get("exactness")
        if r["killed_by_watchdog_gb"] is not None:
            result = f"killed at {r['killed_by_watchdog_gb']:.1f} GB"
        elif r.get("sigterm_from_outside_at_s"):
            result = f"SIGTERM from outside at {r['sigterm_from_outside_at_s'][0]:.0f} s"
        else:
            result = "ok" if r["rc"] == 0 else f"failed (rc {r['rc']})"
        exact = "" if ex is None else ("yes" if ex["exact"] else "**no**")
        what = f" ({r['sampled_peak_one_rule']})" if r.get("sampled_peak_one_rule") else ""
        orders = "-".join(str(o) for o in r["shard_orders"])
        lines.append(
            f"| {r['bound']:,} | {result} | {r['wall_s']:.0f} | {r['shards']} ({orders}) | "
            f"{r['jobs'].get('match', 0)} | {r['jobs'].get('lightcurves', 0)} | "
            f"{_mb(by.get('match'))} | {_mb(by.get('lightcurves'))} | "
            f"{_mb(records['max_rss_mb'].max())} | {_mb(r['largest_process_mb'])}{what} | "
            f"{_mb(r['sampled_peak_sum_mb'])} | {records['cpu_s'].sum():,.0f} | {exact} |"
        )
    lines += [
        "",
        "| max_shard_targets | truth pairs | output rows | duplicates | missing | extra | "
        "summary rows | targets with detections |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        ex = r.get("exactness")
        if ex is None:
            lines.append(f"| {r['bound']:,} | (no output) |  |  |  |  |  |  |")
            continue
        lines.append(
            f"| {r['bound']:,} | {ex['truth_pairs']:,} | {ex['output_rows']:,} | "
            f"{ex['duplicate_rows']:,} | {ex['missing']:,} | {ex['extra']:,} | "
            f"{ex['summary_rows']:,} | {ex['targets_with_detections']:,} |"
        )
    cores = (2, 10, 40)
    lines += [
        "",
        "Modelled wall on more cores (each job's measured wall time, stages in sequence, longest "
        "jobs first; see modelled_wall):",
        "",
        "| max_shard_targets | " + " | ".join(f"{c} cores (s)" for c in cores) + " |",
        "|---|" + "---|" * len(cores),
    ]
    for r in runs:
        records = pd.read_csv(workdir / f"b{r['bound']}" / "jobs.csv")
        walls = " | ".join(f"{modelled_wall(records, c):.0f}" for c in cores)
        lines.append(f"| {r['bound']:,} | {walls} |")
    for r in runs:
        records = pd.read_csv(workdir / f"b{r['bound']}" / "jobs.csv", keep_default_na=False)
        records[["wall_s", "max_rss_mb", "cpu_s"]] = records[
            ["wall_s", "max_rss_mb", "cpu_s"]
        ].apply(pd.to_numeric, errors="coerce")
        lines += [
            "",
            f"**max_shard_targets {r['bound']:,}**: {r['shards']} shards "
            f"({r['shards_with_field_partitions']} holding field partitions), at most "
            f"{r['most_targets_in_a_shard']:,} targets in one; {r.get('lightcurve_units', '?')} "
            f"light-curve groups (orders {'-'.join(map(str, r.get('group_orders', [])))}), at "
            f"most {r.get('most_targets_in_a_group', 0):,} targets in one; cache "
            f"{r['cache_bytes'] / 1e6:,.0f} MB; wall {r['wall_s']:.0f} s (mean load "
            f"{r.get('mean_load_1min') or float('nan'):.1f} on 2 cores); code {r.get('code', '?')}",
            "",
            "| rule | jobs | max RSS (MB) | median RSS (MB) | largest job | total wall (s) "
            "| max wall (s) | total CPU (s) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        order = {rule: i for i, rule in enumerate(RULES)}
        records = records.sort_values("rule", key=lambda c: c.map(order), kind="stable")
        for rule, g in records.groupby("rule", sort=False):
            big = g.loc[g["max_rss_mb"].fillna(-1).idxmax()]
            lines.append(
                f"| {rule} | {len(g)} | {_mb(g['max_rss_mb'].max())} | "
                f"{_mb(g['max_rss_mb'].median())} | {big['job']} | "
                f"{g['wall_s'].sum():,.1f} | {g['wall_s'].max():,.1f} | {g['cpu_s'].sum():,.1f} |"
            )
        spans = ", ".join(
            f"{rule} {a:.0f}-{b:.0f} s" for rule, (a, b) in r.get("phases", {}).items()
        )
        lines += ["", f"Phases (first start - last end, from the run's start): {spans}"]
        if "error_tail" in r:
            lines += ["", "```", r["error_tail"], "```"]
    print("\n".join(lines))


def main(argv=None) -> None:
    """Run the benchmark's command in ``argv``."""
    global N_PARTITIONS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    t = sub.add_parser("targets")
    tr = sub.add_parser("truth")
    r = sub.add_parser("run")
    one = sub.add_parser("run-one")
    rep = sub.add_parser("report")
    a = sub.add_parser("all")
    for p in (g, t, tr, r, one, a):
        p.add_argument("--sky", type=Path, required=True)
        p.add_argument(
            "--partitions", type=int, default=N_PARTITIONS, help="a smaller field, to try it out"
        )
    for p in (g, a):
        p.add_argument("--rows", type=int, default=700_000, help="rows per partition and year")
        p.add_argument("--jobs", type=int, default=2, help="files generated at once")
    for p in (t, a):
        p.add_argument("--n", type=int, default=200_000)
        p.add_argument("--on-source", type=float, default=0.5, help="fraction on real sources")
    t.add_argument("--out", type=Path, required=True)
    tr.add_argument("--targets", type=Path, required=True)
    tr.add_argument("--out", type=Path, required=True)
    for p in (r, one, rep, a):
        p.add_argument("--workdir", type=Path, required=True)
    for p in (r, a):
        p.add_argument("--bounds", type=int, nargs="+", default=list(BOUNDS))
    one.add_argument("--bound", type=int, required=True)
    for p in (r, one, a):
        p.add_argument("--kill-above-gb", type=float, default=20.0)
    args = ap.parse_args(argv)
    N_PARTITIONS = getattr(args, "partitions", N_PARTITIONS)
    if args.cmd == "generate":
        generate(args.sky, args.rows, args.jobs)
    elif args.cmd == "targets":
        write_targets(args.sky, args.out, args.n, args.on_source)
    elif args.cmd == "truth":
        truth(args.sky, args.targets, args.out)
    elif args.cmd == "run":
        run(args.sky, args.workdir, args.bounds, args.kill_above_gb)
    elif args.cmd == "run-one":
        run_one(args.sky, args.workdir, args.bound, args.kill_above_gb)
    elif args.cmd == "report":
        report(args.workdir)
    else:
        args.workdir.mkdir(parents=True, exist_ok=True)
        gen = generate(args.sky, args.rows, args.jobs)
        (args.workdir / "generate.json").write_text(json.dumps(gen) + "\n")
        csv = args.workdir / "targets.csv"
        if not csv.exists():
            write_targets(args.sky, csv, args.n, args.on_source)
        if not (args.workdir / "truth.parquet").exists():
            truth(args.sky, csv, args.workdir / "truth.parquet")
        run(args.sky, args.workdir, args.bounds, args.kill_above_gb)


if __name__ == "__main__":
    main()
