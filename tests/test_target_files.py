"""Per-target files round-trip through astropy in every format, with their provenance."""

import numpy as np
import pytest
from astropy.table import Table
from conftest import DEFAULT_BINNING
from test_binning import synthetic

from neowise_lightcurves import binning, target_files


@pytest.mark.parametrize("fmt", ["parquet", "ecsv", "fits", "csv"])
def test_round_trip(tmp_path, fmt):
    lc, _ = synthetic(n_targets=2, epochs=2)
    lc["year"] = "year1"
    binned = binning.bin_visits(lc, *DEFAULT_BINNING)
    meta = target_files.provenance("s3://bucket/x", ["year1", "year2"], 1.0, "timewise", "nb < 2")
    index = target_files.write_target_files(lc, binned, tmp_path, [fmt], meta)
    assert list(index.columns) == list(target_files.INDEX_COLUMNS)
    assert set(index["format"]) == {fmt} and set(index["target_id"]) == {"T0", "T1"}
    assert sorted(index["path"]) == sorted(
        f"T{i}.{kind}{target_files.FORMATS[fmt][0]}" for i in range(2) for kind in ("raw", "binned")
    )
    ext, astropy_format = target_files.FORMATS[fmt]
    kw = {"comment": "#"} if fmt == "csv" else {}  # CSV: the provenance is in '# ' lines
    raw = Table.read(tmp_path / f"T1.raw{ext}", format=astropy_format, **kw)
    want = lc[lc["target_id"] == "T1"]
    np.testing.assert_allclose(np.asarray(raw["mjd"], float), want["mjd"].to_numpy())
    np.testing.assert_allclose(np.asarray(raw["w1flux"], float), want["w1flux"].to_numpy())
    b = Table.read(tmp_path / f"T1.binned{ext}", format=astropy_format, **kw)
    np.testing.assert_allclose(
        np.asarray(b["w1_flux"], float),
        binned.loc[binned["target_id"] == "T1", "w1_flux"].to_numpy(),
    )
    if fmt == "parquet":  # written by pyarrow: provenance in the schema, units in the fields
        import pyarrow.parquet as pq

        schema = pq.read_schema(tmp_path / "T1.raw.parquet")
        assert schema.metadata[b"catalog_root"] == b"s3://bucket/x"
        assert schema.metadata[b"target_id"] == b"T1"
        assert schema.field("mjd").metadata[b"unit"] == b"d"
    elif fmt == "csv":
        text = (tmp_path / "T1.raw.csv").read_text()
        assert "# catalog_root: s3://bucket/x" in text and "# cuts: timewise" in text
    if fmt in ("ecsv", "fits"):
        meta_read = {k.lower(): v for k, v in raw.meta.items()}
        assert meta_read["catalog_root"] == "s3://bucket/x"
        assert meta_read["cuts"] == "timewise" and meta_read["years"] == "year1,year2"
        assert meta_read["package"].startswith("neowise-lightcurves")
        assert str(raw["mjd"].unit) == "d"
