"""A failing job leaves its reason and traceback in its log, whatever the rule."""

import ast
import subprocess
import sys

from workflow_helpers import REPO


def test_an_uncaught_error_is_in_the_log(tmp_path):
    log = tmp_path / "logs" / "job.log"
    code = (
        "from neowise_lightcurves import logs\n"
        f"log = logs.to_file({str(log)!r})\n"
        "log.info('started')\n"
        "def inner():\n"
        "    raise ValueError(\"targets.path 'nowhere.csv' is not a readable file\")\n"
        "inner()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1
    text = log.read_text()
    assert "started" in text
    assert "ERROR" in text and "failed: ValueError: targets.path 'nowhere.csv'" in text
    assert "Traceback (most recent call last)" in text and "in inner" in text
    assert proc.stderr.count("Traceback") == 1  # on stderr too, once


def test_every_script_logs_to_its_rules_log_first():
    """Each rule's script sends its log (and its failure) to the rule's log file before it
    does anything else; `snakemake --lint` checks that every rule has a log."""
    for script in sorted((REPO / "scripts").glob("*.py")):
        body = [
            n
            for n in ast.parse(script.read_text()).body
            if not isinstance(n, ast.Import | ast.ImportFrom)
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        ]
        first = ast.unparse(body[0])
        assert first in (
            "log = logs.to_file(snakemake.log[0])",
            "logs.to_file(snakemake.log[0])",
        ), script.name


def test_a_failed_workflow_job_names_its_cause(tmp_path):
    """The corrupt-file fault (tests/test_faults.py) again, read from the job's log file."""
    from workflow_helpers import TINY, deep_update, snakemake

    from neowise_lightcurves import catalog, demo, manifest

    root = tmp_path / "catalog"
    for year in ("year1",):
        demo.write_year(root, year, seed=1, field_sources=5)
    t = demo.build_sky(1, 5).targets
    t.to_csv(tmp_path / "targets.csv", index=False)
    k5 = int(manifest.target_partitions(t[t.target_id == "CORNER"], 1.0, 5)["k5"].iloc[0])
    leaf = root / catalog.partition_path("year1", k5) / "part0.snappy.parquet"
    leaf.write_bytes(leaf.read_bytes()[:1000])
    cfg = deep_update(
        TINY,
        {
            "targets": {"source": "file", "path": str(tmp_path / "targets.csv")},
            "catalog": {"root": str(root), "years": [1]},
        },
    )
    _, proc = snakemake(tmp_path / "run", cfg, check=False)
    assert proc.returncode != 0
    logs = [
        p for p in (tmp_path / "run/results/logs/match").rglob("*.log") if "ERROR" in p.read_text()
    ]
    assert len(logs) == 1
    text = logs[0].read_text()
    assert f"failed: CatalogError: cannot read catalogue file {leaf}" in text
    assert "Traceback" in text
    assert "empty file" not in proc.stdout + proc.stderr
