"""Any target id works: long, non-ASCII, with path separators, dots, spaces, quotes, tabs,
Windows device names, and ids that differ only in case, in every per-target format."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from astropy.table import Table
from workflow_helpers import TINY, deep_update, snakemake

from neowise_lightcurves import demo, target_files
from neowise_lightcurves.filenames import safe_filename

NASTY = [
    "OUTBURST",
    "outburst",  # differs only in case
    "Outburst",
    "x" * 300,
    "é" * 1000,  # 2,000 bytes of UTF-8
    "../../etc/passwd",
    "/absolute/path",
    "a\\b\\c",
    "..",
    ".hidden",
    "  spaces  around  ",
    "quotes \"double\" and 'single'",
    "tab\tseparated",
    "comma, and; semicolon",
    "CON",
    "con.txt",
    "LPT1",
    "NUL",
    "V* AM Her",
    "星 ★ ✓",
    "trailing dot.",
]


def test_names_are_safe_unique_and_stable():
    names = [safe_filename(t) for t in NASTY]
    assert len({n.casefold() for n in names}) == len(NASTY)  # unique ignoring case
    for n in names:
        assert len(f"{n}.binned.fits".encode()) <= 255
        assert n == n.strip(". ") and "/" not in n and "\\" not in n and ":" not in n
        assert n.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "LPT1", "COM1"}
        assert all(c.isascii() and (c.isalnum() or c in "._+-") for c in n)
    assert names == [safe_filename(t) for t in NASTY]  # the same every time
    assert safe_filename("STAR-A01") == "STAR-A01"  # a plain id is its own name


@pytest.mark.workflow
def test_every_format_round_trips_every_id(tmp_path):
    sky = demo.build_sky(1, 5).targets
    t = sky[sky["target_id"] != "EMPTY"].head(len(NASTY)).copy()
    t["target_id"] = NASTY[: len(t)]
    t[["target_id", "ra", "dec"]].to_parquet(tmp_path / "targets.parquet")
    cfg = deep_update(
        TINY,
        {
            "targets": {"source": "file", "path": str(tmp_path / "targets.parquet")},
            "catalog": {"years": [1]},
            "outputs": {"per_target_formats": ["parquet", "ecsv", "fits", "csv"]},
            "plots": {"top_n": "all"},
            "match": {"radius_arcsec": 2.0},
        },
    )
    snakemake(tmp_path / "run", cfg)
    res = tmp_path / "run/results"
    summary = pd.read_parquet(res / "summary.parquet")
    assert sorted(summary["target_id"]) == sorted(t["target_id"])
    with_data = set(summary.loc[summary["n_detections"] > 0, "target_id"])
    assert len(with_data) >= len(t) - 2
    index = pd.read_parquet(res / "per_target/index.parquet")
    assert set(index["target_id"]) == with_data and len(index) == 8 * len(with_data)
    lc = pd.read_parquet(res / "lightcurves.parquet")
    for tid, kind, fmt, rel in index.itertuples(index=False):
        path = (res / "per_target" / rel).resolve()
        assert path.is_relative_to(res.resolve()) and path.is_file()
        if fmt == "parquet":
            got = pd.read_parquet(path)["target_id"]
            assert pq.read_schema(path).metadata[b"target_id"].decode() == tid
        else:
            kw = {"comment": "#"} if fmt == "csv" else {}
            got = Table.read(path, format=target_files.FORMATS[fmt][1], **kw)["target_id"]
            got = pd.Series([g.decode() if isinstance(g, bytes) else str(g) for g in got])
            if tid != tid.strip():  # a known limit, documented (docs/outputs.md): astropy's
                # ECSV and CSV writers strip blanks around values, FITS drops trailing ones
                want = tid.rstrip() if fmt == "fits" else tid.strip()
                assert (got == want).all() and len(got) > 0
                continue
        assert (got == tid).all() and len(got) > 0
        if kind == "raw":
            assert len(got) == (lc["target_id"] == tid).sum()
    # the figures: one per target with detections, names unique ignoring case
    pngs = sorted(p.name for p in (res / "plots").glob("*.png"))
    assert len(pngs) == len(with_data) == len({p.casefold() for p in pngs})
    # nothing outside the run's folder: every new file is under results/ or the workdir's own
    outside = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and not p.resolve().is_relative_to((tmp_path / "run").resolve())
    ]
    assert sorted(p.name for p in outside) == ["targets.parquet"]
    assert not np.any([".." in p.parts for p in res.rglob("*")])
