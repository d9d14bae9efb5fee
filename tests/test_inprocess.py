"""fetch()'s settings: the workflow's config.yaml, updated by keywords, checked by its schema.
(That fetch() returns what the workflow writes, locally and on S3: tests/test_s3.py.)"""

from __future__ import annotations

import pytest

import neowise_lightcurves as nl
from neowise_lightcurves import inprocess, targets

TARGET = {"target_id": ["a"], "ra": [150.1], "dec": [2.2]}


def test_settings_start_from_the_workflow_config():
    cfg = inprocess.settings(years=[1, 2], radius_arcsec=3.0, s3={"retries": 2})
    assert cfg["catalog"]["years"] == [1, 2] and cfg["match"]["radius_arcsec"] == 3.0
    assert cfg["catalog"]["s3"]["retries"] == 2 and cfg["catalog"]["s3"]["region"]  # merged
    assert cfg["binning"] == inprocess.settings()["binning"]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="unknown setting 'radius'"):
        nl.fetch(TARGET, radius=2.0, root="/nowhere")
    with pytest.raises(ValueError, match=r"setting match\.radius_arcsec"):
        nl.fetch(TARGET, radius_arcsec=-1.0, root="/nowhere")
    with pytest.raises(ValueError, match=r"setting catalog\.years"):
        nl.fetch(TARGET, years=[12], root="/nowhere")
    with pytest.raises(ValueError, match="root is 'demo'"):
        nl.fetch(TARGET, root="demo")


def test_bad_targets_are_named(tiny_catalog):
    with pytest.raises(targets.TargetError, match="dec"):
        nl.fetch({"target_id": ["a"], "ra": [1.0], "dec": [95.0]}, root=str(tiny_catalog))


def test_fetch_follows_a_moving_target(tiny_catalog):
    """The demo's MOVER (7.5"/yr): with proper motion, every detection of its source in years
    1 and 2 (the demo numbers them from cntr 9e10); without, hardly any."""
    import numpy as np
    import pyarrow.dataset as pads

    from neowise_lightcurves import demo

    sky = demo.build_sky(seed=1, field_sources=5)
    mover = sky.targets[sky.targets["target_id"] == "MOVER"]
    truth = set()
    for year in ("year1", "year2"):
        ds = pads.dataset(
            tiny_catalog / year / f"neowiser-healpix_k5-{year}.parquet",
            format="parquet",
            partitioning="hive",
            exclude_invalid_files=True,
        )
        cntr = ds.to_table(columns=["cntr"])["cntr"].to_numpy()
        truth |= set(cntr[cntr % 10**11 >= 9 * 10**10].tolist())
    options = dict(years=[1, 2], root=str(tiny_catalog), cuts="", radius_arcsec=1.0)
    lc = nl.fetch(mover, **options)
    assert set(np.asarray(lc["cntr"]).tolist()) == truth and len(truth) >= 40
    assert float(np.max(lc["dist_arcsec"])) < 1.0
    off = nl.fetch(mover, proper_motion=False, **options)
    assert len(off) < len(truth) // 4
    # the columns can be named, the epoch given
    renamed = mover.rename(columns={"pmra": "mu_ra", "pmdec": "mu_dec"}).drop(columns="pm_epoch")
    lc2 = nl.fetch(renamed, pmra_column="mu_ra", pmdec_column="mu_dec", pm_epoch=2016.0, **options)
    assert set(np.asarray(lc2["cntr"]).tolist()) == truth


def test_fetch_reaches_back_to_2010_from_a_local_copy_of_the_mep(tiny_catalog, tmp_path):
    """With ``allwise_mep``, fetch() adds the MEP's exposures (here the demo's copy, as the
    workflow's demo reads it), each exposure once; a 'demo' source is refused by name."""
    import numpy as np

    from neowise_lightcurves import demo

    demo.write_allwise(tmp_path, seed=1, field_sources=5)
    sky = demo.build_sky(seed=1, field_sources=5)
    some = sky.targets[sky.targets["target_id"].isin(["CORNER", "STAR-A03", "MOVER"])]
    options = dict(years=[1], root=str(tiny_catalog), cuts="")
    lc = nl.fetch(some, allwise_mep={"enabled": True, "source": str(tmp_path)}, **options)
    years = np.asarray(lc["year"])
    assert set(years) == {"year1", "allwise"}
    mep = lc[years == "allwise"].to_pandas()
    assert set(mep["target_id"]) == set(some["target_id"])  # the mover too, at AllWISE's epoch
    assert not mep.duplicated(["target_id", "mjd"]).any()  # CORNER's duplicate, STAR-A03's row
    assert (mep["mjd"] < 55600).all() and (np.asarray(lc["mjd"])[years == "year1"] > 56600).all()
    without = nl.fetch(some, **options)
    assert len(without) == int((years == "year1").sum())
    with pytest.raises(ValueError, match="allwise_mep source 'demo'"):
        nl.fetch(some, allwise_mep={"enabled": True, "source": "demo"}, **options)
