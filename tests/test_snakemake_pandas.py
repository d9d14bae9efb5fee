"""Snakemake's own process checks rules' params without importing pandas, with the same
answers: neowise_lightcurves.snakemake_pandas."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from neowise_lightcurves import snakemake_pandas

#: A workflow of a ``script:`` job with params that counts its runs beside its output; at its
#: end Snakemake's own process writes whether pandas is imported there. ``{patch}``: the
#: Snakefile's call, or nothing.
SNAKEFILE = """
import sys
from neowise_lightcurves import snakemake_pandas

{patch}


rule script_job:
    output:
        "script.txt",
    params:
        value=config["value"],
    script:
        "job.py"


onsuccess:
    with open("pandas.txt", "w") as fh:
        fh.write(str("pandas" in sys.modules))
"""
JOB = """
with open("runs.txt", "a") as fh:
    fh.write(f"{snakemake.params.value}\\n")
with open(snakemake.output[0], "w") as fh:
    fh.write(str(snakemake.params.value))
"""
#: A ``sitecustomize`` that hides Snakemake's SLURM executor plugin from its plugin registry:
#: that plugin imports pandas at every start of Snakemake (where installed, as in `make
#: test`'s venv), which would leave nothing for the check to see.
WITHOUT_SLURM = """
import pkgutil

_found = pkgutil.iter_modules
pkgutil.iter_modules = lambda *a, **k: (
    m for m in _found(*a, **k) if m.name != "snakemake_executor_plugin_slurm"
)
"""


def run_workflow(folder, value):
    site = folder / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(WITHOUT_SLURM)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path[1:]])}
    command = [sys.executable, "-m", "snakemake", "-d", str(folder), "-s"]
    command += [str(folder / "Snakefile"), "--cores", "1", "--config", f"value={value}"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.mark.workflow
@pytest.mark.parametrize("patched", [True, False])
def test_snakemakes_process_does_without_pandas_and_still_reruns_a_changed_param(tmp_path, patched):
    """With the Snakefile's call, Snakemake's process runs jobs with params and hands a script
    its params without importing pandas (without the call it imports it: the check can fail);
    a job whose params are unchanged is not run again, one whose param changed is, given the
    new value, as without the call."""
    patch = "snakemake_pandas.check_params_without_importing_pandas()" if patched else ""
    (tmp_path / "Snakefile").write_text(SNAKEFILE.format(patch=patch))
    (tmp_path / "job.py").write_text(JOB)
    for value in (1, 1, 2):
        run_workflow(tmp_path, value)
        assert (tmp_path / "pandas.txt").read_text() == str(not patched)
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


def test_pandas_params_are_hashed_as_before(monkeypatch):
    """Where pandas is imported, a param that is a pandas object is recorded by its hash, as
    Snakemake records it; a built-in value by its repr."""
    import pandas as pd
    from snakemake.iocontainers import Snakemake
    from snakemake.persistence import PersistenceBase
    from snakemake.persistence.file import FilePersistence

    for cls, name in ((PersistenceBase, "_serialize_param"), (Snakemake, "_safely_store_params")):
        monkeypatch.setattr(cls, name, cls.__dict__[name])  # put back after the test
    assert snakemake_pandas.check_params_without_importing_pandas()
    store = Snakemake._safely_store_params
    assert snakemake_pandas.check_params_without_importing_pandas()  # twice: the same
    assert Snakemake._safely_store_params is store
    persistence = FilePersistence.__new__(FilePersistence)
    frame = pd.DataFrame({"a": [1, 2]})
    want = repr(pd.util.hash_pandas_object(frame).tolist())
    assert persistence._serialize_param(frame) == want
    assert persistence._serialize_param(3) == "3"


def test_pandas_is_refused_to_one_thread_only():
    """Within pandas_refused(), this thread's ``import pandas`` fails as if pandas were not
    installed while another thread's succeeds; after it, this thread's succeeds too, and once
    pandas is imported it is given within too. ``sys.meta_path`` is changed once, on first use
    (other threads walk it in their imports)."""
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
        finders = list(sys.meta_path)
        with pandas_refused():  # pandas imported now: given as usual
            got.append(__import__("pandas").__name__)
            with pandas_refused():
                pass
            assert sys.meta_path == finders  # the finder is installed once, never removed
        print(" ".join(got))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["refused", "pandas", "pandas", "pandas"]


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
