"""The read path on a latency-shaped S3 server: ours, fetch(), IRSA's notebook method, the floor.

    python benchmarks/object_store.py server-speed --sky /tmp/os/sky-random
    python benchmarks/object_store.py tune --sky /tmp/os/sky-random --targets 100
    python benchmarks/object_store.py run --skies /tmp/os/sky-random /tmp/os/sky-time \\
        /tmp/os/sky-spatial --latency-ms 20 80 --targets 1 100 10000 --radii 1 10 \\
        --workdir /tmp/os/run

The skies are ``read_path.py generate`` ones (4 partitions x 2 years, ~1.5 M rows x 143
columns a file, in ``--order`` random, time or spatial), with the notebook's ``_metadata``
inflated (``read_path.py inflate-metadata``). ``run`` starts a real S3 server on loopback
(moto's server mode with ranged GETs that read only the range, ``fast_moto.py``; stock moto
reads the whole object for every range), uploads each sky to a bucket of its own, and puts a
proxy in front of it (``benchmarks/servers.py``'s) that waits ``--latency-ms`` before answering each
request (first-byte latency) and sends each response at most ``--mb-per-s`` (100 MB/s: what S3
gives one connection). Then, per latency, sky, target count and radius, each method reads the
sky through the proxy, in a Python of its own:

- **ours**: ``snakemake --cores 2`` end to end (as read_path.py's ``ours``), its
  ``reads.json`` compared with what the proxy served;
- **fetch**: ``neowise_lightcurves.fetch()`` (the same steps in one process);
- **baseline**: IRSA's notebook method (read_path.py's ``baseline``) over the bucket's
  ``_metadata``;
- **floor**: only ``ra`` and ``dec`` of every row group of every file of the partitions the
  targets touch, 16 files at once, each file's column chunks fetched at once
  (``neowise_lightcurves.ranged``), in one Python already started;
- **columns** (not run unless asked: ``--methods ... columns``): the same as the floor, but every
  column a match caches (``columns.cached_columns()``): what any method that returns those
  columns must read where every row group holds a match, and so a bound on how close to the
  floor such a method can come;
- **columns-notebook** (likewise): the same with the notebook's columns
  (``columns.NOTEBOOK_COLUMNS``): what any method returning those must read;
- **empty-workflow** (likewise): a Snakemake run of one job that imports what every job of ours
  imports (pandas, pyarrow, the package) and writes a file: what any run of a workflow costs
  on this machine before it reads anything. With ``columns-notebook`` it bounds the workflow
  with ``match.columns: notebook`` from below.

Wall time, requests and bytes the proxy served, rows out. ``server-speed`` measures the S3
server itself (stock and patched moto, bare and through the proxy), so that it is not what the
run measures. ``tune`` runs fetch() with the read path's knobs varied one at a time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import read_path  # a sibling: run as a script, this folder is on the path
from servers import MotoServer, Proxy

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

PREFIX = "wise/neowiser/catalogs/p1bs_psd/healpix_k5"
REGION = "us-west-2"
METHODS = (
    "ours",
    "fetch",
    "baseline",
    "floor",
    "columns",
    "columns-notebook",
    "empty-workflow",
    "ours-notebook",
    "fetch-notebook",
    "ours-one-job",
    "ours-one-job-notebook",
    "ours-default",
    "ours-default-notebook",
)
#: The methods that read every row group of the touched files (read_path's ``floor``): ``ra`` and
#: ``dec``, the default columns, the notebook's.
BOUND_READS = ("floor", "columns", "columns-notebook")
#: The methods ``run`` measures unless told otherwise, and the main table's.
MAIN_METHODS = METHODS[:4]
#: Where a method's own configuration differs from the workflow's defaults.
NOTEBOOK_COLUMNS = {"match": {"columns": "notebook"}}
#: The workflow's settings on top of read_path's, by method ("ours" and its variants).
OURS = {
    "ours": {},  # the staged rules (read_path.workflow_config)
    "ours-notebook": NOTEBOOK_COLUMNS,
    "ours-one-job": {"one_job": True},
    "ours-one-job-notebook": {"one_job": True, **NOTEBOOK_COLUMNS},
    "ours-default": {"one_job": "auto"},  # the workflow's default
    "ours-default-notebook": {"one_job": "auto", **NOTEBOOK_COLUMNS},  # and the one setting
}


# ------------------------------------------------------------------------------ the server
class S3Server(MotoServer):
    """``fast_moto.py`` in a subprocess on a free loopback port (``stock``: unpatched moto)."""

    def __init__(self, stock: bool = False):
        command = [sys.executable, str(HERE / "fast_moto.py")]
        super().__init__(
            [*command, *(["--stock"] if stock else []), "--port"], name="the S3 server"
        )

    def upload_sky(self, sky: Path) -> int:
        """The sky's catalogue (its years' folders) into its own public bucket, under IRSA's
        prefix; returns the bytes uploaded."""
        files = {
            f"{PREFIX}/{p.relative_to(sky).as_posix()}": p
            for p in sorted(sky.glob("year*/**/*"))
            if p.is_file()
        }
        return self.upload(bucket_of(sky), files)


def layout_of(sky: Path) -> str:
    """A sky's row order and row groups, e.g. ``"random, 1 row group a file"``."""
    record = json.loads((sky / "sky.json").read_text())
    # a file's rows vary by ~0.1 %: a row group as large as the file would leave a sliver
    one = record["row_group_size"] > 1.01 * record["rows"]
    groups = "1 row group a file" if one else f"{record['row_group_size']:,}-row groups"
    return f"{record['order']}, {groups}"


def bucket_of(sky: Path) -> str:
    return "nlc-" + sky.name.lower().replace("_", "-")


def s3_filesystem(endpoint: str):
    """The pyarrow filesystem the workflow reads the server behind ``endpoint`` with."""
    from neowise_lightcurves import catalog

    return catalog.open_catalog(f"s3://{PREFIX}", s3=s3_settings(endpoint)).filesystem


# ------------------------------------------------------------------------------ server speed
def server_speed(sky: Path) -> None:
    """Time 64 KiB and 32 MiB ranged GETs of one catalogue file: stock and patched moto, bare
    and through the proxy (0 ms; 20 ms and 100 MB/s)."""
    path = sorted(sky.glob("year1/**/part*.parquet"))[0]
    data = path.read_bytes()
    rows = []
    for stock in (True, False):
        server = S3Server(stock=stock)
        try:
            server.upload("speed", {"k": path})
            for label, proxy_args in (
                ("bare", None),
                ("proxy 0 ms", {}),
                ("proxy 20 ms, 100 MB/s", {"latency_s": 0.02, "bytes_per_s": 100e6}),
            ):
                proxy = Proxy(server.endpoint, **proxy_args) if proxy_args is not None else None
                endpoint = proxy.endpoint if proxy else server.endpoint
                f = s3_filesystem(endpoint).open_input_file("speed/k")
                rng = random.Random(1)
                n = 20 if not stock else 5
                t0 = time.perf_counter()
                for _ in range(n):
                    off = rng.randrange(0, len(data) - 65536)
                    assert f.read_at(65536, off) == data[off : off + 65536]
                small = (time.perf_counter() - t0) / n
                t0 = time.perf_counter()
                assert f.read_at(32 << 20, 4096) == data[4096 : 4096 + (32 << 20)]
                big = time.perf_counter() - t0
                if proxy:
                    proxy.stop()
                rows.append(
                    f"| {'stock' if stock else 'patched'} moto | {label} | "
                    f"{small * 1000:.1f} | {(32 << 20) / big / 1e6:.0f} |"
                )
                print(rows[-1], flush=True)
        finally:
            server.stop()
    print(f"\none {len(data) / 1e6:.0f} MB object\n")
    print("| server | path | 64 KiB range (ms) | 32 MiB range (MB/s) |\n|---|---|---|---|")
    print("\n".join(rows))


# ------------------------------------------------------------------------------ the methods
def method(name: str, sky: Path, targets_csv: Path, radius: float, endpoint: str) -> dict:
    """One method (not ours) against the bucket of ``sky`` behind ``endpoint``."""
    root = f"{bucket_of(sky)}/{PREFIX}"
    fs = s3_filesystem(endpoint)
    if name == "baseline":
        return read_path.baseline(sky, targets_csv, radius, filesystem=fs, root=root)
    if name in BOUND_READS:  # the floor's reads, of the columns each names
        from neowise_lightcurves.columns import NOTEBOOK_COLUMNS

        cols = {"floor": ["ra", "dec"], "columns": None, "columns-notebook": NOTEBOOK_COLUMNS}
        return read_path.floor(
            sky, targets_csv, radius, filesystem=fs, root=root, columns=cols[name], threads=16
        )
    if name in ("fetch", "fetch-notebook"):
        extra = {"columns": "notebook"} if name == "fetch-notebook" else {}
        extra.update(FETCH_OPTIONS)
        r = read_path.fetch_method(
            sky, targets_csv, radius, root=f"s3://{root}", s3=s3_settings(endpoint), **extra
        )
        r["recorded_requests"], r["recorded_bytes"] = r.pop("reads"), r.pop("bytes")
        return r
    raise ValueError(name)


def s3_settings(endpoint: str) -> dict:
    return {
        "anonymous": True,
        "region": REGION,
        "endpoint_override": endpoint,
        "scheme": "http",
        "retries": 6,
    }


def ours(
    sky: Path,
    targets_csv: Path,
    radius: float,
    endpoint: str,
    workdir: Path,
    extra: dict | None = None,
) -> dict:
    """The workflow end to end (``extra``: config on top of read_path's), with its CPU: the
    whole run's (Snakemake's process and every job's, from the kernel's accounting of the
    children it waited for) and its jobs' start-up and work (each job log's last line,
    :data:`neowise_lightcurves.logs.CPU_LINE`)."""
    import re
    import resource
    import shutil

    import pandas as pd
    from workflow_costs import deep_update
    from workflow_costs import snakemake as run_workflow

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    catalog = {"root": f"s3://{bucket_of(sky)}/{PREFIX}", "s3": s3_settings(endpoint)}
    cfg = deep_update(read_path.workflow_config(targets_csv, radius, catalog), extra or {})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, output = run_workflow(workdir, cfg)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    start = work = 0.0
    jobs = 0
    pattern = re.compile(r"process CPU: start-up ([0-9.]+) s, work ([0-9.]+) s")
    for log in (workdir / "results/logs").rglob("*.log"):
        found = pattern.findall(log.read_text(errors="replace"))
        if found:
            start += float(found[-1][0])
            work += float(found[-1][1])
            jobs += 1
    rec = json.loads((workdir / "results/reads.json").read_text())
    cntr = pd.read_parquet(workdir / "results/lightcurves.parquet", columns=["cntr"])["cntr"]
    return {
        "wall": wall,
        "rows": len(cntr),
        "cntr_sum": int(cntr.sum()),
        "recorded_requests": rec["total"]["requests"],
        "recorded_bytes": rec["total"]["bytes"],
        "cpu": cpu,
        "jobs": jobs,
        "jobs_started": len(re.findall(r"^(?:local)?rule \w+:$", output, re.MULTILINE)),
        "job_start_cpu": start,
        "job_work_cpu": work,
    }


#: What pyarrow's S3 shutdown race prints when it aborts a finished process.
S3_EXIT_ABORT = "terminate called without an active exception"


def in_subprocess(
    name: str, sky: Path, targets_csv: Path, radius: float, endpoint: str, *knobs: str
) -> dict:
    """Run a method in a Python of its own; ``knobs``: ``method``'s tuning options."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "method",
            name,
            "--sky",
            str(sky),
            "--targets",
            str(targets_csv),
            "--radius",
            str(radius),
            "--endpoint",
            endpoint,
            *knobs,
        ],
        capture_output=True,
        text=True,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode:
        # pyarrow's S3 shutdown now and then aborts a process at exit, after its work
        # (apache/arrow#39162; seen once in CI, in `floor`): the result it printed stands
        if not (lines and lines[-1].startswith("{") and S3_EXIT_ABORT in out.stderr):
            sys.exit(f"{name} failed:\n{out.stdout[-2000:]}{out.stderr[-4000:]}")
        print(f"({name}: result printed, then pyarrow's S3 shutdown aborted it)", file=sys.stderr)
    return json.loads(lines[-1])


#: The Snakefile of ``empty-workflow``: one job, started as ours are (``script:``, params checked
#: without pandas: :mod:`neowise_lightcurves.snakemake_pandas`), importing what each of our jobs
#: imports, and the run ended as ours is (:mod:`neowise_lightcurves.exits`).
EMPTY_SNAKEFILE = """
from neowise_lightcurves import exits, snakemake_pandas

snakemake_pandas.check_params_without_importing_pandas()


rule all:
    output:
        "done.txt",
    log:
        "done.log",
    params:
        what="nothing",
    script:
        "empty_job.py"


onsuccess:
    exits.end_of_run(workflow.scheduler)
"""
EMPTY_JOB = """
import pandas, pyarrow, neowise_lightcurves.stages  # what every job of ours imports
from pathlib import Path
from neowise_lightcurves import exits

exits.skip_final_collections()

Path(snakemake.output[0]).write_text(snakemake.params.what)
"""


def empty_workflow(workdir: Path) -> dict:
    """Snakemake's start, one job's start-up and imports, and Snakemake's end, with no work:
    the wall time below which no run of a workflow can come on this machine."""
    import shutil

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / "Snakefile").write_text(EMPTY_SNAKEFILE)
    (workdir / "empty_job.py").write_text(EMPTY_JOB)
    command = [sys.executable, "-m", "snakemake", "-d", str(workdir), "--cores", "2"]
    command += ["-s", str(workdir / "Snakefile")]
    t0 = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode:
        sys.exit(f"empty-workflow failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return {"wall": wall, "rows": 0}


def cpu_seconds() -> float:
    """CPU seconds of this process and of the children it waited for (the notebook's pool)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


# ------------------------------------------------------------------------------ tune
#: The read path's knobs ``tune`` varies: (option, module attribute or ``fetch.{keyword}`` of
#: fetch(), values).
KNOBS = (
    ("--fetch-threads", "ranged.FETCH_THREADS", (4, 8, 16, 24, 32, 48)),
    ("--concurrent-partitions", "fetch.concurrent_partitions", (4, 8, 16, 32)),
    ("--concurrent-batches", "matching.CONCURRENT_BATCHES", (1, 4)),
    # -1: no string column decoded as a dictionary
    ("--small-dictionary-bytes", "parquet.SMALL_DICTIONARY_BYTES", (-1, 64 * 1024)),
)


def tune(
    sky: Path,
    workdir: Path,
    latencies_ms: list[float],
    n: int,
    mb_per_s: float,
    repeat: int,
    knobs: list[str] | None = None,
) -> None:
    """fetch() of ``n`` targets at 1" with each knob of :data:`KNOBS` (or those named in
    ``knobs``, e.g. ``["fetch-threads"]``) varied in turn (the others at their defaults),
    ``repeat`` times each; the median wall time goes in."""
    names = [k[0][2:] for k in KNOBS]
    unknown = sorted(set(knobs or ()) - set(names))
    if unknown:
        sys.exit(f"tune knobs are {', '.join(names)}, not {', '.join(unknown)}")
    chosen = [k for k in KNOBS if knobs is None or k[0][2:] in knobs]
    workdir.mkdir(parents=True, exist_ok=True)
    targets_csv = workdir / f"{sky.name}-targets-{n}.csv"
    read_path.write_targets(sky, n, targets_csv, 1.0)
    order = json.loads((sky / "sky.json").read_text())["order"]
    print(
        f"| latency | {order} sky, {n:,} targets: knob | value | wall (s) | peak RSS (MB) | "
        "requests |"
    )
    print("|---|---|---|---|---|---|")
    server = S3Server()
    try:
        server.upload_sky(sky)
        for latency in latencies_ms:
            proxy = Proxy(server.endpoint, latency_s=latency / 1000, bytes_per_s=mb_per_s * 1e6)
            try:
                for option, attribute, values in chosen:
                    default = knob_default(attribute)
                    for value in values:
                        done = []
                        for _ in range(repeat):
                            proxy.reset()
                            r = in_subprocess(
                                "fetch", sky, targets_csv, 1.0, proxy.endpoint, option, str(value)
                            )
                            done.append(r)
                        r = sorted(done, key=lambda r: r["wall"])[len(done) // 2]
                        mark = " (default)" if value == default else ""
                        print(
                            f"| {latency:g} ms | {option[2:]} | {value:,}{mark} | "
                            f"{r['wall']:.1f} | {r['peak_mb']:.0f} | {len(proxy.requests):,} |",
                            flush=True,
                        )
            finally:
                proxy.stop()
    finally:
        server.stop()


#: fetch()'s keywords set by ``method``'s tuning options (:data:`KNOBS`' ``fetch.*``).
FETCH_OPTIONS: dict = {}


def _knob(attribute: str):
    """(module, name) of a :data:`KNOBS` attribute such as ``"ranged.FETCH_THREADS"``."""
    import importlib

    module, name = attribute.split(".")
    return importlib.import_module(f"neowise_lightcurves.{module}"), name


def knob_default(attribute: str):
    """A knob's default: its module attribute's, or for ``fetch.{keyword}`` the configuration's
    (``match.{keyword}``)."""
    module, name = attribute.split(".")
    if module == "fetch":
        from neowise_lightcurves.config import defaults

        return defaults()["match"][name]
    return getattr(*_knob(attribute))


def set_knobs(args) -> None:
    """Set the tuning options ``method`` was given on the package's modules, or as fetch()'s
    keywords (:data:`FETCH_OPTIONS`)."""
    for option, attribute, _ in KNOBS:
        value = getattr(args, option[2:].replace("-", "_"))
        if value is None:
            continue
        module, name = attribute.split(".")
        if module == "fetch":
            FETCH_OPTIONS[name] = value
        else:
            setattr(*_knob(attribute), value)


# ------------------------------------------------------------------------------ run
def run(
    skies: list[Path],
    workdir: Path,
    latencies_ms: list[float],
    counts: list[int],
    radii: list[float],
    methods: list[str],
    mb_per_s: float,
    out: Path | None = None,
    repeat: int = 1,
) -> None:
    """Every method on every case, ``repeat`` times (the methods in turn each time, so a
    drift of the machine's speed falls on all of them), each result a line of
    ``results.jsonl`` with its ``repeat``; then :func:`report`."""
    workdir.mkdir(parents=True, exist_ok=True)
    results_path = out or workdir / "results.jsonl"
    invocation = time.strftime("%Y-%m-%dT%H:%M:%S")  # density_results keeps a case's latest
    server = S3Server()
    try:
        for sky in skies:
            t0 = time.perf_counter()
            nbytes = server.upload_sky(sky)
            print(f"uploaded {sky} ({nbytes / 1e9:.1f} GB) in {time.perf_counter() - t0:.0f} s")
        for latency in latencies_ms:
            proxy = Proxy(server.endpoint, latency_s=latency / 1000, bytes_per_s=mb_per_s * 1e6)
            try:
                for sky in skies:
                    order = json.loads((sky / "sky.json").read_text())["order"]
                    for n in counts:
                        targets_csv = workdir / f"{sky.name}-targets-{n}.csv"
                        read_path.write_targets(sky, n, targets_csv, max(radii))
                        for radius, rep, name in itertools.product(radii, range(repeat), methods):
                            proxy.reset()
                            # the notebook's forked pool would share the parent's pooled
                            # S3 connections (pyarrow's S3 is not fork-safe): one response
                            # per connection for it
                            proxy.close_connections = name == "baseline"
                            if name == "empty-workflow":
                                r = empty_workflow(workdir / name)
                            elif name in OURS:
                                wd = workdir / f"{name}-{sky.name}-{n}-{radius:g}"
                                extra = OURS[name]
                                r = ours(sky, targets_csv, radius, proxy.endpoint, wd, extra)
                            else:
                                r = in_subprocess(name, sky, targets_csv, radius, proxy.endpoint)
                            with proxy.lock:
                                served = list(proxy.requests)
                            r.update(
                                method=name,
                                invocation=invocation,
                                repeat=rep,
                                order=order,
                                sky=sky.name,
                                layout=layout_of(sky),
                                latency_ms=latency,
                                targets=n,
                                radius=radius,
                                requests=len(served),
                                bytes=sum(q["bytes"] for q in served),
                                # what ranged GETs served (not listings' XML)
                                ranged_bytes=sum(q["bytes"] for q in served if q["range"]),
                            )
                            with open(results_path, "a") as f:
                                f.write(json.dumps(r) + "\n")
                            print(line(r), flush=True)
            finally:
                proxy.stop()
    finally:
        server.stop()
    report(results_path)


HEADER = (
    "| latency | order | targets | radius | method | wall (s) | requests | MB served | rows | "
    "record: requests / MB |\n|---|---|---|---|---|---|---|---|---|---|"
)


def line(r: dict) -> str:
    rec = ""
    if "recorded_requests" in r:
        rec = f"{r['recorded_requests']:,} / {r['recorded_bytes'] / 1e6:.1f}"
    return (
        f'| {r["latency_ms"]:g} ms | {r["order"]} | {r["targets"]:,} | {r["radius"]:g}" | '
        f"{r['method']} | {r['wall']:.1f} | {r['requests']:,} | {r['bytes'] / 1e6:.1f} | "
        f"{r['rows']:,} | {rec} |"
    )


def _cell(got: dict, key: str, fmt, methods) -> str:
    """A table cell: ``key`` of each of ``methods``' results in ``got``, formatted, "-" where
    missing."""
    return " / ".join(fmt(got[m][key]) if key in got.get(m, {}) else "-" for m in methods)


def _mb(nbytes: int) -> str:
    """Bytes as whole MB with thousands separators."""
    return f"{nbytes / 1e6:,.0f}"


def _ratio(got: dict, a: str, b: str, key: str = "wall", missing: str = "") -> str:
    """``got[a][key] / got[b][key]``, or ``missing`` where either method did not run."""
    return f"{got[a][key] / got[b][key]:.2f}" if a in got and b in got else missing


def report(results_path: Path, full: bool = False) -> None:
    """A run's results (the last of each case), one row per case: each method's wall time,
    what the proxy served for ours, the notebook's method and the floor, whether every method
    gave the same rows (and ours and fetch() the same light curves: ``cntr`` sums, when the
    run recorded them), and what the proxy served beyond what our read records say (requests,
    then bytes of ranged GETs: 0 / 0 is exact; runs without ``ranged_bytes`` count the
    listings' XML too); then the ratios the issue asks for. ``full``: every method's row too."""
    results = {}
    for text in results_path.read_text().splitlines():
        r = json.loads(text)
        if "sky" in r:
            continue  # the notebook's-density runs: notebook_table
        results[(r["latency_ms"], r["order"], r["targets"], r["radius"], r["method"])] = r
    if full:
        print(HEADER)
        for r in results.values():
            print(line(r))
        print()
    print(
        "| latency | order | targets | radius | wall: ours / fetch / notebook / floor (s) | "
        "ours/floor | ours/notebook | fetch/notebook | MB: ours / notebook / floor | "
        "requests: ours / notebook / floor | rows out | same rows | proxy - record |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case in sorted({k[:4] for k in results}):
        got = {m: results[(*case, m)] for m in MAIN_METHODS if (*case, m) in results}

        answers = [got[m]["rows"] for m in ("ours", "fetch", "baseline") if m in got]
        sums = {
            got[m]["cntr_sum"]
            for m in ("ours", "fetch", "baseline")
            if "cntr_sum" in got.get(m, {})
        }
        same = "yes" if len(set(answers)) == 1 and len(sums) <= 1 else "NO"
        deltas = []  # proxy minus record: requests, data bytes
        for m in ("ours", "fetch"):
            if m in got:
                served = got[m].get("ranged_bytes", got[m]["bytes"])
                deltas.append(
                    f"{got[m]['requests'] - got[m]['recorded_requests']:,} / "
                    f"{served - got[m]['recorded_bytes']:,}"
                )
        lat, order, n, radius = case
        print(
            f'| {lat:g} ms | {order} | {n:,} | {radius:g}" | '
            f"{_cell(got, 'wall', lambda v: f'{v:.1f}', MAIN_METHODS)} | "
            f"{_ratio(got, 'ours', 'floor')} | "
            f"{_ratio(got, 'ours', 'baseline')} | {_ratio(got, 'fetch', 'baseline')} | "
            f"{_cell(got, 'bytes', _mb, ('ours', 'baseline', 'floor'))} | "
            f"{_cell(got, 'requests', lambda v: f'{v:,}', ('ours', 'baseline', 'floor'))} | "
            f"{answers[0] if answers else '':,} | {same} | "
            f"{', '.join(deltas)} |"
        )
    bound_table(results)
    notebook_table(results_path)
    one_job_table(results_path)
    default_table(results_path)
    workflow_bound_table(results_path)


#: What :func:`density_results` gives as the median of a case's repeated runs.
MEDIAN_KEYS = ("wall", "cpu", "job_work_cpu", "job_start_cpu")


def density_results(results_path: Path) -> dict:
    """The notebook's-density runs (records that name their sky) by (sky, latency, targets,
    radius, method), from the latest ``run`` command that ran each (a workdir run into again
    keeps the older records): the last record, with :data:`MEDIAN_KEYS` the medians over its
    runs, ``runs`` their count, ``walls`` every run's wall time, and ``rows`` None where the
    runs disagree on the rows (or their ``cntr`` sum)."""
    runs: dict[tuple, list[dict]] = {}
    for text in results_path.read_text().splitlines():
        r = json.loads(text)
        if "sky" in r:
            key = (r["sky"], r["latency_ms"], r["targets"], r["radius"], r["method"])
            runs.setdefault(key, []).append(r)
    out = {}
    for key, rs in runs.items():
        latest = max(r.get("invocation", "") for r in rs)
        rs = [r for r in rs if r.get("invocation", "") == latest]
        merged = dict(rs[-1], runs=len(rs), walls=[r["wall"] for r in rs])
        if len({(r["rows"], r.get("cntr_sum")) for r in rs}) > 1:
            merged["rows"] = None  # the tables' "same rows" then says NO
        for k in MEDIAN_KEYS:
            if all(k in r for r in rs):
                merged[k] = statistics.median(r[k] for r in rs)
        out[key] = merged
    return out


def _runs(got: dict, methods) -> str:
    """How many runs each of ``methods`` had (a table cell)."""
    return " / ".join(str(got[m]["runs"]) if m in got else "-" for m in methods)


def notebook_table(results_path: Path) -> None:
    """The notebook's-density table (runs whose records name their sky): per layout, latency
    and case, every method's wall time, ours and the notebook method against each other, our
    bytes against the bound of the default columns (``columns``: every one of them, every row
    group of the touched files), CPU, and the share of ours' CPU that is Snakemake's own and
    the jobs' start-up (the run's CPU less the jobs' work). Times and CPU are medians over a
    case's runs (:func:`density_results`)."""
    results = density_results(results_path)
    if not results:
        return
    order = ("ours", "ours-notebook", "fetch", "fetch-notebook", "baseline", "floor", "columns")
    print(
        "\n| layout | latency | targets | wall: ours / ours (notebook columns) / fetch / "
        "fetch (notebook columns) / notebook / floor / bound (s) | ours/notebook | "
        "ours (notebook columns)/notebook | fetch/notebook | MB: ours / bound / notebook | "
        "ours/bound (bytes) | requests: ours / notebook | CPU s: ours / notebook | "
        "Snakemake + start-up share of ours' CPU (jobs) | same rows |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case in sorted({k[:4] for k in results}):
        got = {m: results[(*case, m)] for m in order if (*case, m) in results}
        if not got:
            continue  # only methods of the other tables
        any_ = next(iter(got.values()))

        share = "-"
        if "ours" in got and got["ours"].get("cpu"):
            o = got["ours"]
            share = f"{(o['cpu'] - o['job_work_cpu']) / o['cpu']:.0%} ({o['jobs']})"
        answers = {got[m]["rows"] for m in ("ours", "fetch", "baseline") if m in got}
        sums = {
            got[m]["cntr_sum"]
            for m in ("ours", "fetch", "baseline")
            if "cntr_sum" in got.get(m, {})
        }
        same = "yes" if len(answers) == 1 and len(sums) <= 1 else "NO"
        _, latency, n, _ = case
        print(
            f"| {any_['layout']} | {latency:g} ms | {n:,} | "
            f"{_cell(got, 'wall', lambda v: f'{v:.1f}', order)} | "
            f"{_ratio(got, 'ours', 'baseline', missing='-')} | "
            f"{_ratio(got, 'ours-notebook', 'baseline', missing='-')} | "
            f"{_ratio(got, 'fetch', 'baseline', missing='-')} | "
            f"{_cell(got, 'bytes', _mb, ('ours', 'columns', 'baseline'))} | "
            f"{_ratio(got, 'ours', 'columns', 'bytes', missing='-')} | "
            f"{_cell(got, 'requests', lambda v: f'{v:,}', ('ours', 'baseline'))} | "
            f"{_cell(got, 'cpu', lambda v: f'{v:.1f}', ('ours', 'baseline'))} | {share} | {same} |"
        )


def one_job_table(results_path: Path) -> None:
    """Where the one-job runs ran (``one_job: true``): the workflow staged and in one job,
    with default and with the notebook's columns, and with the workflow's defaults (``one_job:
    auto``), against the notebook method; the
    Snakemake + start-up share of the one-job run's CPU; whether the rows are the same. Times
    and CPU are medians over a case's runs (:func:`density_results`); their count is the
    last column but one, and each one-job run's wall time and the notebook method's the last."""
    results = density_results(results_path)
    order = ("ours", "ours-one-job", "ours-one-job-notebook", "ours-default", "baseline")
    cases = sorted({k[:4] for k in results if k[4] == "ours-one-job"})
    if not cases:
        return
    print(
        "\n| layout | latency | targets | wall: ours / one job / one job (notebook columns) / "
        "defaults / notebook (s) | ours/notebook | one job/notebook | one job (notebook "
        "columns)/notebook | defaults/notebook | CPU s: one job / notebook | Snakemake + "
        "start-up share of the one job's CPU | same rows | runs | each run: one job; notebook "
        "(s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        got = {m: results[(*case, m)] for m in order if (*case, m) in results}
        o = got["ours-one-job"]
        share = _share(o)
        answers = {got[m]["rows"] for m in order if m in got and m != "ours-one-job-notebook"}
        print(
            f"| {o['layout']} | {case[1]:g} ms | {case[2]:,} | "
            f"{_cell(got, 'wall', lambda v: f'{v:.1f}', order)} | "
            f"{_ratio(got, 'ours', 'baseline', missing='-')} | "
            f"{_ratio(got, 'ours-one-job', 'baseline', missing='-')} | "
            f"{_ratio(got, 'ours-one-job-notebook', 'baseline', missing='-')} | "
            f"{_ratio(got, 'ours-default', 'baseline', missing='-')} | "
            f"{_cell(got, 'cpu', lambda v: f'{v:.1f}', ('ours-one-job', 'baseline'))} | "
            f"{share} | {'yes' if len(answers) == 1 else 'NO'} | {_runs(got, order)} | "
            f"{_walls(got, 'ours-one-job')}; {_walls(got, 'baseline')} |"
        )


def default_table(results_path: Path) -> None:
    """Where the workflow ran as a user runs it (``ours-default``: its defaults, ``one_job:
    auto``; ``ours-default-notebook``: with ``match.columns: notebook``): against the
    notebook method, fetch(), the floor and the bound of the default columns (wall, MB the
    proxy served, CPU), the Snakemake + start-up share of the default run's CPU, whether the
    rows are the same, and each run's wall time. Times and CPU are medians over a case's runs
    (:func:`density_results`)."""
    results = density_results(results_path)
    order = ("ours-default", "ours-default-notebook", "fetch", "baseline", "floor", "columns")
    cases = sorted({k[:4] for k in results if k[4] == "ours-default"})
    if not cases:
        return
    print(
        "\n| layout | latency | targets | wall: defaults / defaults (notebook columns) / fetch "
        "/ notebook / floor / bound (s) | defaults/notebook | defaults (notebook columns)/"
        "notebook | fetch/notebook | MB: defaults / bound / notebook | defaults/bound (bytes) "
        "| CPU s: defaults / notebook | Snakemake + start-up share of the defaults' CPU | "
        "same rows | runs | each run: defaults; notebook (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        got = {m: results[(*case, m)] for m in order if (*case, m) in results}
        o = got["ours-default"]
        share = _share(o)
        answers = {got[m]["rows"] for m in ("ours-default", "fetch", "baseline") if m in got}
        print(
            f"| {o['layout']} | {case[1]:g} ms | {case[2]:,} | "
            f"{_cell(got, 'wall', lambda v: f'{v:.1f}', order)} | "
            f"{_ratio(got, 'ours-default', 'baseline', missing='-')} | "
            f"{_ratio(got, 'ours-default-notebook', 'baseline', missing='-')} | "
            f"{_ratio(got, 'fetch', 'baseline', missing='-')} | "
            f"{_cell(got, 'bytes', _mb, ('ours-default', 'columns', 'baseline'))} | "
            f"{_ratio(got, 'ours-default', 'columns', 'bytes', missing='-')} | "
            f"{_cell(got, 'cpu', lambda v: f'{v:.1f}', ('ours-default', 'baseline'))} | "
            f"{share} | {'yes' if len(answers) == 1 else 'NO'} | {_runs(got, order)} | "
            f"{_walls(got, 'ours-default')}; {_walls(got, 'baseline')} |"
        )


def workflow_bound_table(results_path: Path) -> None:
    """Where ``empty-workflow`` ran beside the notebook method: how fast any workflow run could
    be. The bound of a run is a read no method can avoid plus an empty workflow's run
    (Snakemake's start and end, one job's imports), over the notebook method's wall time: the
    read of ``ra`` and ``dec`` of every row group (the floor), of the notebook's columns
    (``columns-notebook``), or of our default columns (``columns``), beside the workflow's own
    ratios (medians, :func:`density_results`)."""
    results = density_results(results_path)
    order = ("empty-workflow", "floor", "columns-notebook", "columns", "baseline")
    cases = sorted({k[:4] for k in results if k[4] == "empty-workflow"})
    cases = [c for c in cases if (*c, "baseline") in results]
    if not cases:
        return
    print(
        "\n| layout | latency | wall: empty workflow / floor / notebook columns' read / default "
        "columns' read / notebook (s) | (empty workflow + floor)/notebook | (empty workflow + "
        "notebook columns' read)/notebook | (empty workflow + default columns' read)/notebook | "
        "defaults/notebook | defaults (notebook columns)/notebook | runs |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        got = {m: results[(*case, m)] for m in METHODS if (*case, m) in results}
        print(
            f"| {got['baseline']['layout']} | {case[1]:g} ms | "
            f"{_cell(got, 'wall', lambda v: f'{v:.2f}', order)} | {_bound(got, 'floor')} | "
            f"{_bound(got, 'columns-notebook')} | {_bound(got, 'columns')} | "
            f"{_ratio(got, 'ours-default', 'baseline', missing='-')} | "
            f"{_ratio(got, 'ours-default-notebook', 'baseline', missing='-')} | "
            f"{_runs(got, order)} |"
        )


def _bound(got: dict, read: str) -> str:
    """(an empty workflow's wall + ``read``'s) over the notebook method's (a table cell)."""
    if read not in got:
        return "-"
    walls = got["empty-workflow"]["wall"] + got[read]["wall"]
    return f"{walls / got['baseline']['wall']:.2f}"


def _share(run: dict) -> str:
    """The Snakemake + start-up share of a workflow run's CPU (its CPU less its jobs' work,
    over its CPU; a table cell)."""
    return f"{(run['cpu'] - run['job_work_cpu']) / run['cpu']:.0%}" if run.get("cpu") else "-"


def _walls(got: dict, method: str) -> str:
    """Each run's wall time of ``method`` (a table cell)."""
    return ", ".join(f"{w:.1f}" for w in got[method]["walls"]) if method in got else "-"


def bound_table(results: dict) -> None:
    """Where ``columns`` ran: the floor of the cached columns against the floor of ``ra`` and
    ``dec``, and how far fetch() and ours are from each (wall times; MB the proxy served)."""
    cases = sorted({k[:4] for k in results if k[4] == "columns" and (*k[:4], "floor") in results})
    if not cases:
        return
    print(
        "\n| latency | order | targets | radius | wall: floor / columns / fetch / ours (s) | "
        "columns/floor | fetch/columns | ours/columns | MB: floor / columns / fetch / ours |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        got = {m: results[(*case, m)] for m in METHODS if (*case, m) in results}
        order = ("floor", "columns", "fetch", "ours")
        walls = _cell(got, "wall", lambda v: f"{v:.1f}", order)
        lat, order_, n, radius = case
        print(
            f'| {lat:g} ms | {order_} | {n:,} | {radius:g}" | {walls} | '
            f"{_ratio(got, 'columns', 'floor')} | {_ratio(got, 'fetch', 'columns')} | "
            f"{_ratio(got, 'ours', 'columns')} | {_cell(got, 'bytes', _mb, order)} |"
        )


def main(argv=None) -> None:
    """Run the benchmark's command in ``argv``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server-speed")
    s.add_argument("--sky", type=Path, required=True)
    r = sub.add_parser("run")
    r.add_argument("--skies", type=Path, nargs="+", required=True)
    r.add_argument("--workdir", type=Path, default=Path("/tmp/nlc-object-store"))
    r.add_argument("--latency-ms", type=float, nargs="+", default=[20.0, 80.0])
    r.add_argument("--mb-per-s", type=float, default=100.0, help="per connection")
    r.add_argument("--targets", type=int, nargs="+", default=[1, 100, 10_000])
    r.add_argument("--radii", type=float, nargs="+", default=[1.0, 10.0])
    r.add_argument("--methods", nargs="+", default=list(MAIN_METHODS), choices=METHODS)
    r.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each method on each case; the notebook's-density tables give medians",
    )
    p = sub.add_parser("report")
    p.add_argument("results", type=Path)
    p.add_argument("--full", action="store_true", help="also every method's own row")
    m = sub.add_parser("method")
    m.add_argument("name", choices=[n for n in METHODS if not n.startswith("ours")])
    m.add_argument("--sky", type=Path, required=True)
    m.add_argument("--targets", type=Path, required=True)
    m.add_argument("--radius", type=float, required=True)
    m.add_argument("--endpoint", required=True)
    for option, _, _ in KNOBS:
        m.add_argument(option, type=int, default=None)
    t = sub.add_parser("tune")
    t.add_argument("--sky", type=Path, required=True)
    t.add_argument("--workdir", type=Path, default=Path("/tmp/nlc-object-store-tune"))
    t.add_argument("--latency-ms", type=float, nargs="+", default=[20.0, 80.0])
    t.add_argument("--mb-per-s", type=float, default=100.0)
    t.add_argument("--targets", type=int, default=100)
    t.add_argument("--repeat", type=int, default=3)
    t.add_argument("--knobs", nargs="+", help="vary only these (e.g. fetch-threads)")
    args = ap.parse_args(argv)
    if args.cmd == "server-speed":
        server_speed(args.sky)
    elif args.cmd == "run":
        run(
            args.skies,
            args.workdir,
            args.latency_ms,
            args.targets,
            args.radii,
            args.methods,
            args.mb_per_s,
            repeat=args.repeat,
        )
    elif args.cmd == "report":
        report(args.results, args.full)
    elif args.cmd == "tune":
        tune(
            args.sky,
            args.workdir,
            args.latency_ms,
            args.targets,
            args.mb_per_s,
            args.repeat,
            args.knobs,
        )
    else:
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        set_knobs(args)
        start = cpu_seconds()  # after the imports, as the wall clock
        r = method(args.name, args.sky, args.targets, args.radius, args.endpoint)
        print(json.dumps({**r, "cpu": cpu_seconds() - start}), flush=True)


if __name__ == "__main__":
    main()
