"""The package on its own: its copy of the workflow's configuration and schema, and fetch()
from an installed wheel, outside the source tree."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from neowise_lightcurves import config

REPO = Path(__file__).resolve().parents[1]


def test_the_package_ships_the_workflow_s_configuration_and_schema():
    """data/config.yaml and data/config.schema.yaml are the workflow's files, byte for byte
    (copy them over after changing either: `cp config.yaml src/neowise_lightcurves/data/` and
    `cp workflow/schemas/config.schema.yaml src/neowise_lightcurves/data/`)."""
    data = REPO / "src/neowise_lightcurves/data"
    assert (data / "config.yaml").read_bytes() == (REPO / "config.yaml").read_bytes()
    schema = REPO / "workflow/schemas/config.schema.yaml"
    assert (data / "config.schema.yaml").read_bytes() == schema.read_bytes()
    assert config.defaults() == yaml.safe_load((REPO / "config.yaml").read_text())
    config.validate(config.defaults())


def test_fetch_keywords_come_from_the_schema():
    paths = config.keyword_paths()
    assert paths["radius_arcsec"] == ("match", "radius_arcsec")
    assert paths["years"] == ("catalog", "years") and paths["binning"] == ("binning",)
    assert paths["columns"] == ("match", "columns") and paths["pm_epoch"] == ("targets", "pm_epoch")
    props = config.schema()["properties"]
    assert {k for k in paths if paths[k][0] == "match"} == set(props["match"]["properties"])


def test_resolve_is_what_the_rules_and_fetch_use():
    cfg = config.defaults()
    cfg["match"] = {**cfg["match"], "cuts": "timewise", "extra_columns": ["glon"]}
    cfg["catalog"] = {**cfg["catalog"], "root": "s3://bucket/x/", "years": [1, "addendum"]}
    cfg["catalog"]["allwise_mep"] = {**cfg["catalog"]["allwise_mep"], "enabled": True}
    r = config.resolve(cfg)
    assert r.years == ("year1", "addendum") and r.read_years == ("year1", "addendum", "allwise")
    assert r.catalog_root == "s3://bucket/x/" and r.catalog_key == "s3://bucket/x"
    assert r.allwise_source == "tap" and r.allwise_root is None and r.allwise_key.startswith("tap:")
    assert r.cached_columns == r.base_columns + r.side_columns
    assert set(r.side_columns) == {"qi_fact", "saa_sep", "moon_masked", "glon"}
    assert len(r.side_key) == 8
    demo = config.resolve(config.defaults())
    assert demo.catalog_root == "results/demo/catalog" and demo.side_columns == ()
    assert demo.allwise_source == "demo" and demo.allwise_key is None  # off by default


@pytest.mark.workflow
def test_fetch_from_an_installed_wheel(tmp_path):
    """The wheel, installed in a fresh venv and run outside the source tree, has its defaults
    and schema: fetch() on a demo catalogue works, without Snakemake, and a bad setting names
    its key."""
    dist = tmp_path / "dist"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(dist),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("neowise_lightcurves-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the wheel unpacked into the fresh venv (a wheel is a zip: what pip would do, no index)
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    # the dependencies from this environment, without its editable install of the package
    # (PYTHONPATH entries do not run .pth files, which is how an editable install is found)
    deps = [p for p in sys.path if p.endswith("site-packages")]
    # Snakemake is the `workflow` extra, not a dependency: fetch() runs without it
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [
            line for line in z.read(meta).decode().splitlines() if line.startswith("Requires-Dist")
        ]
    assert requires and all("extra ==" in r for r in requires if "snakemake" in r), requires
    script = (
        "import sys\n"
        "sys.modules['snakemake'] = None  # as if not installed: importing it fails\n"
        "import neowise_lightcurves, pandas as pd\n"
        "from neowise_lightcurves import demo, fetch\n"
        "assert 'site-packages' in neowise_lightcurves.__file__, neowise_lightcurves.__file__\n"
        "demo.write_year('cat', 'year1', seed=1, field_sources=5)\n"
        "t = demo.build_sky(1, 5).targets[['target_id', 'ra', 'dec']].head(6)\n"
        "lc = fetch(t, root='cat', years=[1])\n"
        "assert len(lc) > 20 and set(lc['target_id']) <= set(t['target_id'])\n"
        "try:\n"
        "    fetch(t, root='cat', years=[1], radius_arcsec=-1)\n"
        "except ValueError as err:\n"
        "    assert 'match.radius_arcsec' in str(err), err\n"
        "else:\n"
        "    raise SystemExit('a bad setting passed')\n"
        "print('rows', len(lc))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(deps), MPLBACKEND="Agg")
    run = subprocess.run(
        [str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert run.stdout.startswith("rows ")
