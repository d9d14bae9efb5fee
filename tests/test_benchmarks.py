"""The benchmarks are tools: every script in benchmarks/ answers ``--help``, imports no private
name of another module, and runs on a tiny input here (a few targets, a one-partition sky, one
repetition). The tests check what each produced (rows, keys, files), never how long it took:
the figures themselves are measured by hand and kept in benchmarks/README.md.

``benchmarks/`` is on pytest's ``pythonpath``, so the scripts import as modules; each
``main(argv)`` takes its command line. Those that run Snakemake are marked ``workflow``.
``timewise_compare`` is run on the real-rows test's workflow run (tests/test_realrows.py)."""

import ast
import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
#: Importable helpers, not scripts.
HELPERS = {"servers", "browser"}
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem not in HELPERS)
#: Scripts whose smoke test lives with the test whose outputs it reads.
SMOKED_ELSEWHERE = {"timewise_compare": REPO / "tests" / "test_realrows.py"}


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name, capsys):
    module = importlib.import_module(name)
    with pytest.raises(SystemExit) as done:
        module.main(["--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")


def test_every_script_has_a_smoke_test():
    here = Path(__file__).read_text()
    missing = [
        name
        for name in SCRIPTS
        if f"def test_{name}(" not in here
        and f"{name}.main(" not in SMOKED_ELSEWHERE.get(name, Path(__file__)).read_text()
    ]
    assert not missing


def private_uses(path: Path) -> list[str]:
    """``module._name`` and ``from module import _name`` in ``path``, for modules it imports
    (dunders and ``self``'s attributes are not counted)."""
    tree = ast.parse(path.read_text())
    modules, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.update(a.asname or a.name for a in node.names)
            found += [f"from {node.module} import {a.name}" for a in node.names if a.name[0] == "_"]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr} (line {node.lineno})")
    return found


def test_no_private_names_across_modules():
    found = {p.name: private_uses(p) for p in sorted(BENCHMARKS.glob("*.py"))}
    assert not {k: v for k, v in found.items() if v}


def test_private_uses_finds_them(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("import read_path\nfrom a import _b\nread_path._year(1)\nread_path.year(1)\n")
    assert private_uses(path) == ["from a import _b", "read_path._year (line 3)"]


# ------------------------------------------------------------------ the scripts, tiny


@pytest.fixture(scope="module")
def tiny_sky(tmp_path_factory):
    """``read_path.py generate``: one order-5 partition, 2 years of 3,000 rows in row groups of
    1,000, and the notebook's ``_metadata`` inflated to list 8 files."""
    import read_path

    sky = tmp_path_factory.mktemp("bench") / "sky"
    read_path.main(
        ["generate", "--sky", str(sky), "--partitions", "1", "--rows", "3000"]
        + ["--row-group-size", "1000"]
    )
    read_path.main(["inflate-metadata", "--sky", str(sky), "--files", "8"])
    return sky


def test_read_path(tiny_sky, tmp_path, capsys):
    import read_path

    files = sorted(tiny_sky.glob("year*/**/part*.parquet"))
    assert len(files) == 2
    sizes = [pq.ParquetFile(f).metadata.num_rows for f in files]
    assert json.loads((tiny_sky / "sky.json").read_text())["rows"] == 3000
    methods = ["fetch", "baseline", "floor"]  # ours, the workflow: test_object_store's
    read_path.main(
        ["run", "--sky", str(tiny_sky), "--workdir", str(tmp_path), "--targets", "3"]
        + ["--methods", *methods]
    )
    out = capsys.readouterr().out.split("partitions on the sky")[-1]  # the final table
    table = [line.strip(" |").split(" | ") for line in out.splitlines() if line.startswith("| 3 |")]
    assert sorted(r[2] for r in table) == sorted(methods * 2)  # at 1" and 10"
    rows = {(r[1], r[2]): int(r[-1].replace(",", "")) for r in table}
    for radius in ('1"', '10"'):
        assert rows[radius, "fetch"] == rows[radius, "baseline"] > 0
        assert rows[radius, "floor"] == sum(sizes)  # every row of the partition's two years
    scale = read_path.main(["match-scale", "--sky", str(tiny_sky), "--targets", "20"])
    assert scale["rows_in_partition"] == sizes[0] and scale["matches"] > 0
    cost = read_path.main(["metadata-cost", "--sky", str(tiny_sky)])
    assert cost["files"] == 8


def test_write_targets_writes_as_many_as_asked_or_says_why(tiny_sky, tmp_path):
    """Sources whose cones leave the sky are replaced, not dropped: n targets, each on a
    source; a sky without enough fitting sources is an error, not a shorter file."""
    import read_path

    path = tmp_path / "t.csv"
    read_path.write_targets(tiny_sky, 40, path, 1.0)
    t = pd.read_csv(path)
    src = pd.read_parquet(tiny_sky / "sources.parquet")
    assert len(t) == 40 and t["uid"].tolist() == list(range(1, 41))
    assert set(zip(t["RAJ2000"], t["DEJ2000"], strict=True)) <= set(
        zip(src["ra"], src["dec"], strict=True)
    )
    with pytest.raises(ValueError, match=f"only .* sources can be targets, not {len(src) + 1}"):
        read_path.write_targets(tiny_sky, len(src) + 1, path, 1.0)


def test_write_targets_spreads_them_over_the_partitions(tmp_path):
    """On a sky of three partitions, 3 targets fall one in each, and 7 as 3, 2, 2."""
    import read_path

    from neowise_lightcurves import sky as nl_sky

    sky = tmp_path / "sky"
    read_path.main(
        ["generate", "--sky", str(sky), "--partitions", "3", "--rows", "3000"]
        + ["--row-group-size", "3000"]
    )
    for n, spread in ((3, [1, 1, 1]), (7, [2, 2, 3])):
        read_path.write_targets(sky, n, tmp_path / "t.csv", 1.0)
        t = pd.read_csv(tmp_path / "t.csv")
        k5 = nl_sky.partition_of(t["RAJ2000"].to_numpy(), t["DEJ2000"].to_numpy())
        assert sorted(pd.Series(k5).value_counts().tolist()) == spread


def test_read_path_pages(tiny_sky, tmp_path, capsys):
    """The page-index estimate: pages as large as a row group read what is read now; pages of
    one row, only the matched rows' share; the matched rows are every row within the radius
    (astropy's search_around_sky over the files)."""
    import astropy.units as u
    import read_path
    from astropy.coordinates import SkyCoord

    targets = tmp_path / "targets.csv"
    read_path.write_targets(tiny_sky, 3, targets, 10.0)
    r = read_path.page_savings(tiny_sky, targets, 10.0, rows_per_page=(1, 500, 1000))
    t = pd.read_csv(targets)
    rows = pd.concat(
        pd.read_parquet(f, columns=["ra", "dec"]) for f in tiny_sky.glob("year*/**/part*.parquet")
    )
    near, _, _, _ = SkyCoord(t["RAJ2000"], t["DEJ2000"], unit="deg").search_around_sky(
        SkyCoord(rows["ra"], rows["dec"], unit="deg"), 10 * u.arcsec
    )
    assert r["matched_rows"] == len(set(near.tolist())) > 0
    assert r["row_groups"] == 6 and 0 < r["row_groups_matched"] <= 6
    assert r["pages_bytes"][1000] == r["others_bytes"] > 0  # a row group is one page
    pages = r["pages_bytes"]
    assert 0 < pages[1] <= pages[500] <= pages[1000]  # fewer bytes by smaller pages
    assert pages[1] <= r["others_bytes"] * r["matched_rows"] / 1000  # a share per matched row
    read_path.main(
        ["pages", "--skies", str(tiny_sky), "--targets", "3", "--workdir", str(tmp_path)]
    )
    assert "| sky | row groups holding a match / all |" in capsys.readouterr().out


@pytest.mark.workflow
def test_object_store(tiny_sky, tmp_path, capsys):
    import object_store

    results = tmp_path / "results.jsonl"
    methods = ["ours", "fetch", "baseline", "floor", "columns", "columns-notebook"]
    methods.append("empty-workflow")
    object_store.main(
        ["run", "--skies", str(tiny_sky), "--workdir", str(tmp_path), "--latency-ms", "0"]
        + ["--targets", "3", "--radii", "1", "--methods", *methods]
    )
    got = {r["method"]: r for r in map(json.loads, results.read_text().splitlines())}
    assert set(got) == set(methods)
    assert got["ours"]["rows"] == got["fetch"]["rows"] == got["baseline"]["rows"] > 0
    assert got["ours"]["requests"] > 0 and got["fetch"]["requests"] > 0
    # the bounds: every row of the touched files, the notebook's columns fewer bytes than ours
    assert got["columns-notebook"]["rows"] == got["columns"]["rows"] == got["floor"]["rows"]
    assert got["floor"]["bytes"] < got["columns-notebook"]["bytes"] < got["columns"]["bytes"]
    assert got["empty-workflow"]["wall"] > 0 and got["empty-workflow"]["requests"] == 0
    assert (tmp_path / "empty-workflow" / "done.txt").read_text() == "nothing"
    capsys.readouterr()
    object_store.main(["report", str(results)])
    assert "fetch" in capsys.readouterr().out


def test_repeated_runs_give_medians(tmp_path, capsys):
    """object_store.py run --repeat: the notebook's-density tables give each case's medians,
    with every run's wall time beside them."""
    import object_store

    case = {"sky": "s", "layout": "random", "latency_ms": 20.0, "targets": 24, "radius": 1.0}
    runs = [
        ("ours-one-job", 6.0, 7.0, 4.0),
        ("baseline", 8.0, 8.0, 0.0),
        ("ours-one-job", 5.0, 6.0, 4.5),
        ("baseline", 6.0, 7.0, 0.0),
        ("ours-one-job", 9.0, 9.0, 5.0),
        ("baseline", 7.0, 9.0, 0.0),
    ]
    results = tmp_path / "results.jsonl"
    results.write_text(
        "".join(
            json.dumps(case | {"method": m, "wall": w, "cpu": c, "job_work_cpu": work, "rows": 5})
            + "\n"
            for m, w, c, work in runs
        )
    )
    older = case | {"method": "baseline", "wall": 99.0, "rows": 5, "invocation": "2020-01-01"}
    newer = {"invocation": "2026-01-01"}
    lines = results.read_text().splitlines()
    results.write_text(
        json.dumps(older) + "\n" + "".join(json.dumps(json.loads(t) | newer) + "\n" for t in lines)
    )
    got = object_store.density_results(results)
    one, nb = got[("s", 20.0, 24, 1.0, "ours-one-job")], got[("s", 20.0, 24, 1.0, "baseline")]
    assert (one["wall"], one["cpu"], one["job_work_cpu"], one["runs"]) == (6.0, 7.0, 4.5, 3)
    assert (nb["wall"], nb["cpu"], nb["walls"]) == (7.0, 8.0, [8.0, 6.0, 7.0])
    object_store.one_job_table(results)
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert "| 0.86 |" in row and "6.0, 5.0, 9.0; 8.0, 6.0, 7.0" in row  # 6.0 / 7.0
    assert "| yes |" in row
    # a run with other rows: the table says so
    results.write_text(
        results.read_text()
        + json.dumps(case | newer | {"method": "baseline", "wall": 7.0, "cpu": 8, "rows": 6})
        + "\n"
    )
    assert object_store.density_results(results)[("s", 20.0, 24, 1.0, "baseline")]["rows"] is None
    object_store.one_job_table(results)
    assert "| NO |" in capsys.readouterr().out.strip().splitlines()[-1]


def test_the_defaults_table(tmp_path, capsys):
    """object_store.py's table of the workflow as a user runs it: its defaults and the notebook
    columns against the notebook method (wall), the bound (bytes), the start-up share."""
    import object_store

    case = {"sky": "s", "layout": "random", "latency_ms": 20.0, "targets": 24, "radius": 1.0}
    records = [
        {"method": "ours-default", "wall": 5.0, "cpu": 8.0, "job_work_cpu": 6.0, "bytes": 600e6},
        {"method": "ours-default-notebook", "wall": 4.0, "bytes": 500e6},
        {"method": "baseline", "wall": 8.0, "cpu": 7.0, "bytes": 640e6},
        {"method": "columns", "wall": 3.0, "bytes": 500e6},
    ]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(case | {"rows": 5} | r) + "\n" for r in records))
    object_store.default_table(results)
    row = capsys.readouterr().out.strip().splitlines()[-1]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["random", "20 ms", "24"]
    assert cells[3] == "5.0 / 4.0 / - / 8.0 / - / 3.0"
    assert cells[4:7] == ["0.62", "0.50", "-"]  # 5/8, 4/8
    assert cells[7:9] == ["600 / 500 / 640", "1.20"]
    assert cells[10:12] == ["25%", "yes"]  # (8 - 6) / 8


def test_the_workflow_bound_table(tmp_path, capsys):
    """object_store.py's bound of a workflow run: an empty workflow's wall plus a read no method
    avoids, over the notebook method's, beside the workflow's own ratios."""
    import object_store

    case = {"sky": "s", "layout": "time", "latency_ms": 80.0, "targets": 24, "radius": 1.0}
    records = [
        {"method": "empty-workflow", "wall": 1.5},
        {"method": "floor", "wall": 1.0},
        {"method": "columns-notebook", "wall": 2.5},
        {"method": "columns", "wall": 3.5},
        {"method": "baseline", "wall": 8.0},
        {"method": "ours-default", "wall": 7.0},
        {"method": "ours-default-notebook", "wall": 6.0},
    ]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(case | {"rows": 5} | r) + "\n" for r in records))
    object_store.workflow_bound_table(results)
    row = capsys.readouterr().out.strip().splitlines()[-1]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:2] == ["time", "80 ms"]
    assert cells[2] == "1.50 / 1.00 / 2.50 / 3.50 / 8.00"
    assert cells[3:8] == ["0.31", "0.50", "0.62", "0.88", "0.75"]  # 2.5/8, 4/8, 5/8, 7/8, 6/8
    # without the notebook method beside it, no row
    results.write_text("".join(json.dumps(case | {"rows": 5} | r) + "\n" for r in records[:4]))
    object_store.workflow_bound_table(results)
    assert capsys.readouterr().out == ""


def test_a_method_aborted_by_pyarrows_s3_shutdown_keeps_its_result(monkeypatch):
    """in_subprocess: a method that printed its result and then died in pyarrow's S3 shutdown
    (apache/arrow#39162) gives that result; any other failure stops the run."""
    import subprocess

    import object_store

    def finished(result, code, stderr):
        return lambda *a, **k: subprocess.CompletedProcess(a, code, result, stderr)

    args = ("floor", Path("sky"), Path("t.csv"), 1.0, "127.0.0.1:1")
    abort = object_store.S3_EXIT_ABORT + "\n"
    monkeypatch.setattr(subprocess, "run", finished('{"wall": 1.5}\n', -6, abort))
    assert object_store.in_subprocess(*args) == {"wall": 1.5}
    monkeypatch.setattr(subprocess, "run", finished("", -6, abort))
    with pytest.raises(SystemExit):
        object_store.in_subprocess(*args)
    monkeypatch.setattr(subprocess, "run", finished('{"wall": 1.5}\n', 1, "Traceback ..."))
    with pytest.raises(SystemExit):
        object_store.in_subprocess(*args)


def test_fast_moto(tmp_path):
    import object_store

    server = object_store.S3Server()
    try:
        data = bytes(range(256)) * 64
        path = tmp_path / "blob"
        path.write_bytes(data)
        assert server.upload("tiny", {"k": path}) == len(data)
        s3 = server.client()
        got = s3.get_object(Bucket="tiny", Key="k", Range="bytes=1000-1099")["Body"].read()
        assert got == data[1000:1100]
        assert s3.get_object(Bucket="tiny", Key="k")["Body"].read() == data
    finally:
        server.stop()


@pytest.mark.workflow
def test_dense_field(tmp_path, capsys):
    import dense_field

    workdir = tmp_path / "df"
    dense_field.main(
        ["all", "--sky", str(tmp_path / "sky"), "--workdir", str(workdir), "--partitions", "1"]
        + ["--rows", "3000", "--n", "30", "--jobs", "1", "--bounds", "1000000000"]
    )
    result = json.loads((workdir / "b1000000000" / "result.json").read_text())
    assert result["rc"] == 0
    exact = result["exactness"]
    assert exact["exact"] and exact["output_rows"] == exact["truth_pairs"] > 0
    assert exact["summary_rows"] == 30
    capsys.readouterr()
    dense_field.main(["report", "--workdir", str(workdir)])
    assert "| 1,000,000,000 |" in capsys.readouterr().out


@pytest.mark.workflow
def test_merge_stage(tmp_path, capsys):
    import merge_stage

    from neowise_lightcurves import cache

    merge_stage.main(["run", "--targets", "30", "--workdir", str(tmp_path), "--top-n", "1"])
    result = json.loads((tmp_path / "n30" / "result.json").read_text())
    assert result["match_scheduled"] == {}  # the synthetic caches are the workflow's
    assert result["ran"]["lightcurves"] == result["planned"]["lightcurves"] >= 1
    assert 0 < result["rows"] <= result["cache_rows"]
    assert result["isolated"]["rows_in"] > 0
    # costs.tsv: every rule run once (cache.once_rules) and the light curves, nothing else ran
    assert [c["rule"] for c in result["costs"]] == [*cache.ONCE_RULES, cache.LIGHTCURVES_RULE]
    assert "| 30 |" in capsys.readouterr().out


def test_explorer(tmp_path, capsys):
    """The synthetic run is a run read_lightcurves reads; where Chromium is installed, the page
    on it is measured (what the measures are, not their values)."""
    import shutil

    import explorer

    from neowise_lightcurves import read_lightcurves

    work = str(tmp_path)
    explorer.main(["prepare", "--workdir", work, "--targets", "300", "--measured", "2"])
    prepared = json.loads((tmp_path / "prepared.json").read_text())
    assert prepared["targets"] == 300 and len(prepared["measured"]) == 2
    summary = pd.read_parquet(tmp_path / "results/summary.parquet")
    assert len(summary) == 300 and set(summary["group"]) >= set(prepared["groups"])
    lc = read_lightcurves(tmp_path / "results", prepared["measured"])
    binned = read_lightcurves(tmp_path / "results", prepared["measured"], binned=True)
    assert len(lc) == 2 * explorer.VISITS * explorer.PER_VISIT
    assert len(binned) == 2 * explorer.VISITS
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return  # the browser part: tests/test_explorer.py says why it skips
    explorer.main(["measure", "--workdir", work, "--repeat", "1", "--next", "1"])
    result = json.loads((tmp_path / "result.json").read_text())
    assert len(result["open_s"]) == 1 and len(result["next_s"]) == 1
    assert sorted(result["target_s"]) == sorted(prepared["measured"])
    assert result["points_of_last"] == explorer.VISITS * explorer.PER_VISIT
    assert result["memory_mb"]["VmRSS"] > 0
    assert "| page open" in capsys.readouterr().out


@pytest.mark.workflow
def test_workflow_costs(tmp_path):
    import workflow_costs

    rows = workflow_costs.main(
        ["--no-demo", "--orders", "1", "--notebook-targets", "20", "--workdir", str(tmp_path)]
    )
    assert len(rows) == 1
    match_jobs, lc_jobs, total = (int(c.replace(",", "")) for c in rows[0][1:4])
    assert 0 < match_jobs <= 48 * 11 and lc_jobs >= 1 and total > match_jobs + lc_jobs


def test_allwise_job():
    import allwise_job

    got = allwise_job.main(
        ["--targets", "40", "--sources", "2", "--exposures", "3", "--upload-rows", "15"]
    )
    assert got["service_rows"] == 40 * 2 * 3
    assert 0 < got["matched_rows"] < got["service_rows"]
    assert "target_id" in got["columns"]


def test_association():
    import association

    got = association.main(
        ["--clean", "30", "--planted", "30", "--batch-targets", "50", "--batch-rows", "2000"]
    )
    assert [c["targets"] for c in got["cases"]] == [30] * 8
    assert got["batch_rows"] == 50 and "second_source" in got["batch_columns"]


def test_clipping():
    import clipping

    table = clipping.main(["--exposures", "3000", "--outlier-visits", "100", "--sizes", "3", "5"])
    assert list(table.index) == [3, 5]
    assert table.loc[5, "false new %"] < table.loc[5, "false old %"]
    assert {"10σ new %", "5σ old %", "2×10σ new %"} <= set(table.columns)


def test_compare_outputs(tmp_path, capsys):
    import compare_outputs

    frames = {
        "lightcurves": pd.DataFrame({"target_id": ["a", "b"], "mjd": [1.0, 2.0], "cntr": [1, 2]}),
        "binned": pd.DataFrame({"target_id": ["a", "b"], "epoch": [0, 0]}),
        "summary": pd.DataFrame({"target_id": ["b", "a"], "n": [1, 1]}),
    }
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        for name, frame in frames.items():
            frame.to_parquet(tmp_path / run / f"{name}.parquet")
    assert compare_outputs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    frames["summary"].assign(n=[1, 2]).to_parquet(tmp_path / "b" / "summary.parquet")
    assert compare_outputs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert "summary: 2 rows, 2 columns DIFFERENT" in capsys.readouterr().out


def test_periods():
    import periods

    rows = periods.main(["--cadences", "1:4", "2:4", "--grids", "1:1"])
    assert [r["exposures"] for r in rows] == [8, 16]
    assert all(r["best_period"] > 0 and r["frequencies"] > 0 for r in rows)


def test_zero_points():
    import zero_points

    table = zero_points.main([])  # the six objects in tests/data/timewise
    assert set(table["band"]) == {"w1", "w2"}
    measured = table[table["exposures"] >= 20]
    assert len(measured) >= 5
    assert np.all(np.abs(measured["table_minus_median"]) < 0.001)
