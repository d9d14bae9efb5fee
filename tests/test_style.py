"""ruff, snakefmt and `snakemake --lint` are clean."""

import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import REPO

BIN = Path(sys.executable).parent  # the test tools are installed beside this Python


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)


def test_ruff():
    proc = run(str(BIN / "ruff"), "check", ".")
    assert proc.returncode == 0, proc.stdout


def test_snakefmt():
    proc = run(str(BIN / "snakefmt"), "--check", ".")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("extra", [[], ["--config", "one_job=true"]], ids=["staged", "one_job"])
def test_snakemake_lint(extra):
    """Both kinds of run: the staged rules, and the one job (one_job: true)."""
    proc = run(sys.executable, "-m", "snakemake", "--lint", *extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Lints for" not in out, out


def test_the_module_map_names_every_module():
    """The package's docstring lists every module (a reader finds where a thing lives)."""
    import pkgutil

    import neowise_lightcurves

    names = {m.name for m in pkgutil.iter_modules(neowise_lightcurves.__path__)}
    doc = neowise_lightcurves.__doc__
    assert names and not [n for n in sorted(names) if f"  {n} " not in doc]
