"""Shared fixtures: a tiny demo catalogue and a brute-force matcher to check against."""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"


def _defaults() -> dict:
    import yaml

    return yaml.safe_load((REPO / "config.yaml").read_text())


#: config.yaml: the one place defaults are written.
DEFAULTS = _defaults()
#: ``binning.gap_days``, ``sigma``, ``iterations`` as config.yaml sets them.
DEFAULT_BINNING = tuple(DEFAULTS["binning"][k] for k in ("gap_days", "sigma", "iterations"))


def calibrated(lc):
    """Synthetic single exposures (``mjd``, ``w?flux``, ``w?sigflux``, and ``w?mpro``,
    ``w?sigmpro`` where given; a band not given is null) with the flux-density columns that
    ``build_lightcurves`` adds (each exposure its own visit: without magnitudes, every zero
    point is its calibration period's)."""
    from neowise_lightcurves import photometry

    full = lc.copy()
    for b in photometry.BANDS:
        for c in ("flux", "sigflux"):
            if f"{b}{c}" not in full.columns:
                full[f"{b}{c}"] = np.nan
    values = photometry.flux_densities(full, np.arange(len(full)))
    return lc.drop(columns=[c for c in values.columns if c in lc.columns]).join(values)


# Without credentials the AWS SDK would ask the instance-metadata address, which is off this
# machine; every S3 test talks to a server on loopback.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def brute_force_pairs(target_ra, target_dec, ra, dec, radius_arcsec):
    """Every (target, detection) pair within the radius, by astropy's angular separation of
    every pair: the reference the matcher must equal."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    t = SkyCoord(np.asarray(target_ra) * u.deg, np.asarray(target_dec) * u.deg)
    d = SkyCoord(np.asarray(ra) * u.deg, np.asarray(dec) * u.deg)
    pairs = set()
    for i in range(len(t)):
        sep = t[i].separation(d).arcsec
        pairs.update((i, int(j)) for j in np.flatnonzero(sep <= radius_arcsec))
    return pairs


def point_in_cone(ra, dec, radius_arcsec, pa, frac):
    """The position ``frac`` x radius from (ra, dec) at position angle ``pa`` (deg), RA in
    [0, 360): a point of the cone, for property tests."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    c = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(
        pa * u.deg, frac * radius_arcsec * u.arcsec
    )
    return c.ra.wrap_at(360 * u.deg).deg, c.dec.deg


def for_points_in_cones(test):
    """Hypothesis over ``test(ra, dec, radius, pa, frac)``: cones anywhere on the sky, radius
    0.1"-30", and a point of each (:func:`point_in_cone` with ``pa``, ``frac``)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    return settings(max_examples=200, deadline=None)(
        given(
            ra=st.floats(0, 360, exclude_max=True),
            dec=st.floats(-90, 90),
            radius=st.floats(0.1, 30),
            pa=st.floats(0, 360),
            frac=st.floats(0, 1),
        )(test)
    )


@pytest.fixture(scope="session")
def tiny_catalog(tmp_path_factory):
    """The demo sky with 5 field stars per region, years 1 and 2, in IRSA's layout."""
    from neowise_lightcurves import demo

    root = tmp_path_factory.mktemp("demo-catalog")
    for year in ("year1", "year2"):
        demo.write_year(root, year, seed=1, field_sources=5)
    return root


def _cluster_up() -> bool:
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(s in out.stdout for s in ("idle", "mixed", "allocated"))


#: Environment variable naming a folder the test session shares with its pytest-xdist workers.
SHARED_ENV = "NLC_TEST_SHARED"


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        os.environ[SHARED_ENV] = tempfile.mkdtemp(prefix="nlc-tests-")


def _shared() -> Path:
    return Path(os.environ[SHARED_ENV])


@pytest.fixture(scope="session", autouse=True)
def local_slurm(request):
    """A real one-node SLURM on localhost for the `slurm` tests, up for the whole session.

    Started first when any selected test is marked `slurm`, because Snakemake's SLURM plugin
    asks `scontrol` at start-up wherever the SLURM commands are installed, which takes ~9 s per
    Snakemake run when no controller answers. An already running cluster is used as it is and
    left running; one this fixture starts (tools/local-slurm, as root) is stopped when the
    session ends (:func:`pytest_sessionfinish`). Under pytest-xdist every worker runs this
    fixture: the first to take the lock starts the cluster, the others wait and find it up.
    """
    wanted = any(item.get_closest_marker("slurm") for item in request.session.items)
    if not wanted:
        yield None
        return
    with open(_shared() / "slurm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        state = _start_slurm()
    yield state


def _start_slurm() -> str | None:
    """Bring the cluster up if needed: returns "running" (found up), "started" (by this
    session) or None (not root: cannot)."""
    if _cluster_up():
        return "running"
    if os.geteuid() != 0:
        return None  # the slurm tests skip themselves
    base = _shared() / "slurm"
    env = dict(os.environ, LOCAL_SLURM_BASE=str(base))
    start = subprocess.run(
        [str(TOOLS / "local-slurm"), "start"], capture_output=True, text=True, env=env, timeout=900
    )
    (_shared() / "slurm.started").write_text(str(base))
    if start.returncode != 0:
        pytest.exit(f"local SLURM did not start:\n{start.stdout}\n{start.stderr}", returncode=1)
    return "started"


def pytest_sessionfinish(session, exitstatus):
    """Stop the SLURM cluster :func:`local_slurm` started, once every worker is done."""
    if hasattr(session.config, "workerinput") or SHARED_ENV not in os.environ:
        return
    started = _shared() / "slurm.started"
    if started.exists():
        env = dict(os.environ, LOCAL_SLURM_BASE=started.read_text())
        subprocess.run([str(TOOLS / "local-slurm"), "stop"], env=env, timeout=120)
        started.unlink()


@pytest.fixture(scope="session")
def demo_run():
    """A finished run of the demo sky as `make demo` runs it (the AllWISE MEP and the period
    search on), on one year of 5 field stars per region: its ``outdir``. Made once a session and
    shared by the pytest-xdist workers (the first to take the lock runs Snakemake)."""
    from workflow_helpers import TINY, deep_update, snakemake

    work = _shared() / "demo-run"
    with open(_shared() / "demo-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (work / "results/summary.parquet").exists():
            cfg = deep_update(
                TINY,
                {
                    "catalog": {"years": [2], "allwise_mep": {"enabled": True}},
                    "periods": {"enabled": True},
                },
            )
            snakemake(work, cfg, "--cores", "1")
    return work / "results"
