import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from conftest import DEFAULTS

from neowise_lightcurves import targets
from neowise_lightcurves.targets import TargetError


def normalize(frame, **options):
    """``targets.normalize`` with the options config.yaml gives, proper motions off, or
    ``options``."""
    settings = {k: DEFAULTS["targets"][k] for k in targets.NORMALIZE_SETTINGS}
    return targets.normalize(frame, **{**settings, "proper_motion": False, **options})


def frame(**cols):
    base = {"id": ["a", "b", "c"], "ra": [10.0, 20.0, 359.5], "dec": [-10.0, 0.0, 89.0]}
    base.update(cols)
    return pd.DataFrame(base)


def test_normalize_keeps_other_columns_and_types():
    out = normalize(frame(mag=[1.0, 2.0, 3.0]))
    assert list(out.columns) == ["target_id", "ra", "dec", "mag"]
    assert out["target_id"].tolist() == ["a", "b", "c"]
    assert out["ra"].dtype == np.float64


def test_vizier_style_columns_found_by_default():
    f = pd.DataFrame(
        {"uid": [1, 2], "GCVS": ["X", "Y"], "RAJ2000": [1.0, 2.0], "DEJ2000": [3.0, 4.0]}
    )
    out = normalize(f)
    assert out["target_id"].tolist() == ["1", "2"]
    assert "GCVS" in out


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(ra=[10.0, np.nan, 1.0]), "'ra' is empty or NaN at row 2"),
        (dict(dec=[10.0, 95.0, 1.0]), "'dec' is outside [-90, 90] degrees at row 2"),
        (dict(ra=[10.0, 360.0, -1.0]), "'ra' is outside [0, 360) degrees at rows 2, 3"),
        (dict(ra=["10", "x", "3"]), "'ra' has non-numeric values at row 2"),
        (dict(id=["a", "a", "c"]), "duplicate ids at rows 1, 2 (a)"),
        (dict(id=["a", None, "c"]), "id column 'id' is empty at row 2"),
        (dict(id=["a", "b", "  "]), "id column 'id' is empty at row 3"),
    ],
)
def test_bad_tables_are_named(bad, message):
    with pytest.raises(TargetError) as err:
        normalize(frame(**bad))
    assert message in str(err.value)


def test_missing_columns_and_empty_table():
    with pytest.raises(TargetError, match="no ra column"):
        normalize(pd.DataFrame({"id": ["a"], "dec": [1.0]}))
    with pytest.raises(TargetError, match="column 'RAdeg' is not in the targets table"):
        normalize(frame(), ra_column="RAdeg")
    with pytest.raises(TargetError, match="empty"):
        normalize(frame().iloc[:0])


def test_duplicate_ids_suffixed_on_request():
    out = normalize(frame(id=["a", "a", "a"]), duplicate_ids="suffix")
    assert out["target_id"].tolist() == ["a", "a_2", "a_3"]


@pytest.mark.parametrize("ext", ["csv", "ecsv", "fits", "xml", "parquet"])
def test_every_format_reads(tmp_path, ext):
    t = Table({"name": ["s1", "s2"], "ra": [1.5, 2.5], "dec": [-3.0, 4.0]})
    path = tmp_path / f"t.{ext}"
    fmt = {"csv": "ascii.csv", "ecsv": "ascii.ecsv", "xml": "votable"}.get(ext, None)
    t.write(path, format=fmt) if fmt else t.write(path)
    out = normalize(targets.read_table(str(path)))
    assert out["target_id"].tolist() == ["s1", "s2"]
    np.testing.assert_array_equal(out["ra"], [1.5, 2.5])


def test_unreadable_and_unknown_files(tmp_path):
    bad = tmp_path / "t.fits"
    bad.write_bytes(b"not a fits file")
    with pytest.raises(TargetError, match="cannot read targets file"):
        targets.read_table(str(bad))
    with pytest.raises(TargetError, match="unknown extension"):
        targets.read_table(str(tmp_path / "t.txt"))
    with pytest.raises(TargetError, match="does not exist"):
        targets.read_table(str(tmp_path / "nope.csv"))


def test_sexagesimal_on_request():
    f = pd.DataFrame(
        {"id": ["a", "b"], "ra": ["12:00:00", "00h30m00s"], "dec": ["-01:30:00", "+45d00m00s"]}
    )
    out = normalize(f, sexagesimal=True)
    np.testing.assert_allclose(out["ra"], [180.0, 7.5])
    np.testing.assert_allclose(out["dec"], [-1.5, 45.0])
    with pytest.raises(TargetError, match="non-numeric"):
        normalize(f)
    bad = f.assign(dec=["-01:30:00", "north"])
    with pytest.raises(TargetError, match="column 'dec' at row 2: cannot read 'north'"):
        normalize(bad, sexagesimal=True)
    out_of_range = f.assign(ra=["25:00:00", "01:00:00"])
    with pytest.raises(TargetError, match="row 1: cannot read '25:00:00'.*range"):
        normalize(out_of_range, sexagesimal=True)


def test_ids_are_kept_exactly():
    ids = ["  padded  ", "tab\there", "é ★", "x" * 1000, "../up"]
    out = normalize(frame(id=ids[:3]))
    assert out["target_id"].tolist() == ids[:3]


def with_motion(frame, **options):
    """``normalize`` with proper motion on, as config.yaml sets it."""
    return normalize(frame, **{"proper_motion": DEFAULTS["match"]["proper_motion"], **options})


def test_proper_motion_columns_found_by_default():
    # Gaia-style names from VizieR, an epoch column, an empty proper motion
    f = frame(pmRA=[100.0, np.nan, -5.5], pmDE=[1.0, 2.0, None], ref_epoch=[2016.0, 2015.5, None])
    out = with_motion(f)
    assert list(out.columns)[:6] == ["target_id", "ra", "dec", "pmra", "pmdec", "pm_epoch"]
    assert "pmRA" not in out and "ref_epoch" not in out
    assert out["pmra"].tolist() == [100.0, 0.0, -5.5]  # empty: no motion
    assert out["pmdec"].tolist() == [1.0, 2.0, 0.0]
    assert out["pm_epoch"].tolist() == [2016.0, 2015.5, DEFAULTS["targets"]["pm_epoch"]]
    # named columns, and the configured epoch where there is no epoch column
    f = frame(mu_a=[1, 2, 3], mu_d=[4, 5, 6])
    out = with_motion(f, pmra_column="mu_a", pmdec_column="mu_d", pm_epoch=2000.0)
    assert out["pmra"].tolist() == [1, 2, 3] and (out["pm_epoch"] == 2000.0).all()
    # none: as without proper motion
    pd.testing.assert_frame_equal(
        with_motion(frame(mag=[1, 2, 3])), normalize(frame(mag=[1, 2, 3]))
    )


def test_proper_motion_off_keeps_the_columns_as_they_are():
    f = frame(pmra=["x", 1, 2], pmdec=[1, 2, 3])
    out = with_motion(f, proper_motion=False)
    assert out["pmra"].tolist() == ["x", 1, 2] and "pm_epoch" not in out


@pytest.mark.parametrize(
    "cols, options, message",
    [
        (
            {"pmra": ["1", "fast", "3"], "pmdec": [1, 2, 3]},
            {},
            r"column 'pmra' has non-numeric values at row 2 \(e.g. 'fast'\)",
        ),
        ({"pmra": [1, 2, 3]}, {}, "has a pmra column .'pmra'. but no pmdec column"),
        ({"pmdec": [1, 2, 3]}, {}, "has a pmdec column .'pmdec'. but no pmra column"),
        ({"pmra": [1, 2, 3e5], "pmdec": [1, 2, 3]}, {}, "'pmra' is beyond 20,000 mas/yr at row 3"),
        (
            {"pmra": [1, 2, 3], "pmdec": [1, 2, 3], "epoch": [2016, 57388.5, 2016]},
            {},
            "'epoch' is outside 1900-2100 at row 2",
        ),
        ({"pmra": [1, 2, 3], "pmdec": [1, 2, 3]}, {"pmdec_column": "pmDE"}, "'pmDE' is not in"),
    ],
)
def test_bad_proper_motions_are_named(cols, options, message):
    with pytest.raises(TargetError, match=message):
        with_motion(frame(**cols), **options)
