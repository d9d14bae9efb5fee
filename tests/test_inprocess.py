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
