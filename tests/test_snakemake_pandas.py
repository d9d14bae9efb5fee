"""Snakemake's own process checks rules' params without importing pandas, with the same
answers: neowise_lightcurves.snakemake_pandas."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from neowise_lightcurves import snakemake_pandas

#: A workflow of a ``script:`` job with params that counts its runs beside its output.
SNAKEFILE = """
from neowise_lightcurves import snakemake_pandas

snakemake_pandas.check_params_without_importing_pandas()


rule script_job:
    output:
        "script.txt",
    params:
        value=config["value"],
    script:
        "job.py"
"""
JOB = """
with open("runs.txt", "a") as fh:
    fh.write(f"{snakemake.params.value}\\n")
with open(snakemake.output[0], "w") as fh:
    fh.write(str(snakemake.params.value))
"""


def run_workflow(folder, value):
    command = [sys.executable, "-m", "snakemake", "-d", str(folder), "-s"]
    command += [str(folder / "Snakefile"), "--cores", "1", "--config", f"value={value}"]
    proc = subprocess.run(command, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.mark.workflow
def test_a_changed_param_still_reruns_its_job(tmp_path):
    """With the Snakefile's call, a job whose params are unchanged is not run again, and one
    whose param changed is, given the new value."""
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    (tmp_path / "job.py").write_text(JOB)
    for value in (1, 1, 2):
        run_workflow(tmp_path, value)
    assert (tmp_path / "runs.txt").read_text().split() == ["1", "2"]
    assert (tmp_path / "script.txt").read_text() == "2"


#: Snakemake's two checks of params, as its process makes them (a job's params recorded, and
#: handed to a script), in a Python where pandas is not imported; ``{patch}``: the call or not.
CHECKS = """
import sys
from neowise_lightcurves import snakemake_pandas
from snakemake.iocontainers import Params, Snakemake
from snakemake.persistence.file import FilePersistence

{patch}
assert "pandas" not in sys.modules
params = Params(fromdict={{"value": 3, "name": "x"}})
recorded = [FilePersistence.__new__(FilePersistence)._serialize_param(v) for v in params]
script = Snakemake.__new__(Snakemake)
script._safely_store_params(params)
print(recorded, dict(script._params_store.items()), script._params_types, "pandas" in sys.modules)
"""


@pytest.mark.parametrize("patched", [True, False])
def test_snakemakes_checks_of_params_do_without_pandas(patched):
    """Snakemake's process records a job's params and hands a script its params without
    importing pandas, with the same values (without the call, it imports pandas: the check
    can fail)."""
    patch = "snakemake_pandas.check_params_without_importing_pandas()" if patched else ""
    code = CHECKS.format(patch=patch)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    want = "['3', \"'x'\"] {'value': 3, 'name': 'x'} {} " + str(not patched)
    assert proc.stdout.strip() == want


def test_pandas_params_are_hashed_as_before():
    """Where pandas is imported, a param that is a pandas object is recorded by its hash, as
    Snakemake records it; a built-in value by its repr."""
    import pandas as pd
    from snakemake.persistence.file import FilePersistence

    assert snakemake_pandas.check_params_without_importing_pandas()
    assert snakemake_pandas.check_params_without_importing_pandas()  # twice: the same
    persistence = FilePersistence.__new__(FilePersistence)
    frame = pd.DataFrame({"a": [1, 2]})
    want = repr(pd.util.hash_pandas_object(frame).tolist())
    assert persistence._serialize_param(frame) == want
    assert persistence._serialize_param(3) == "3"


def test_pandas_is_refused_to_one_thread_only():
    """Within pandas_refused(), this thread's ``import pandas`` fails as if pandas were not
    installed while another thread's succeeds; after it, this thread's succeeds too."""
    code = textwrap.dedent(
        """
        import sys, threading
        from neowise_lightcurves.snakemake_pandas import pandas_refused
        assert "pandas" not in sys.modules
        got = []
        with pandas_refused():
            try:
                import pandas
                got.append("imported")
            except ModuleNotFoundError:
                got.append("refused")
            other = threading.Thread(target=lambda: got.append(__import__("pandas").__name__))
            other.start()
            other.join()
        import pandas
        got.append(pandas.__name__)
        print(" ".join(got))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["refused", "pandas", "pandas"]


def test_the_workflows_own_imports_in_snakemakes_process_hold_no_pandas():
    """What the Snakefile and the rules' files import at the top level (run in Snakemake's
    own process) imports no pandas: else the check above would spare nothing."""
    root = Path(__file__).resolve().parents[1]
    files = [root / "Snakefile", *sorted((root / "workflow" / "rules").glob("*.smk"))]
    lines = {
        line.strip()
        for f in files
        for line in f.read_text().splitlines()
        if line.startswith(("import ", "from "))
    }
    assert any("neowise_lightcurves" in line for line in lines)
    code = "\n".join(["import sys", *sorted(lines), "print('pandas' in sys.modules)"])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
