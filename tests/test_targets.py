import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from conftest import DEFAULTS

from neowise_lightcurves import targets
from neowise_lightcurves.targets import TargetError


def normalize(frame, **options):
    """``targets.normalize`` with the options config.yaml gives, or ``options``."""
    keys = ("id_column", "ra_column", "dec_column", "duplicate_ids", "sexagesimal")
    settings = {k: DEFAULTS["targets"][k] for k in keys}
    return targets.normalize(frame, **{**settings, **options})


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
