"""The zero points of real IRSA rows, per calibration step of
:data:`neowise_lightcurves.photometry.PERIOD_ZERO_POINTS`.

Reads timewise's real TAP downloads (``raw_photometry_neowiser_p1bs_psd__chunk*.csv`` and
``raw_photometry_allwise_p3as_mep__chunk*.csv`` in ``tests/data/photometry/`` of
JannisNe/timewise, MIT licence; by default the subset in this repository's
``tests/data/timewise``) and prints, for each band and step of the table: the measured
exposures (positive flux, a magnitude that is not an upper limit) in it, the median of their
``mpro + 2.5 log10(flux)``, its 1st-99th percentile range, and the table's value::

    python benchmarks/zero_points.py [--timewise DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from neowise_lightcurves import photometry

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "timewise"


def read_rows(folder: Path) -> pd.DataFrame:
    """Every NEOWISE and MEP row of timewise's CSVs in ``folder``: ``mjd``, then ``w?flux``,
    ``w?mpro``, ``w?sigmpro`` per band."""
    paths = sorted(folder.glob("raw_photometry_*.csv"))
    if not paths:
        raise SystemExit(f"no raw_photometry_*.csv in {folder}")
    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    out = {"mjd": frame["mjd"]}
    for b in photometry.BANDS:
        B = b.upper()
        out[f"{b}flux"] = frame[f"{B}_flux"]
        out[f"{b}mpro"] = frame[f"{B}_mag"]
        out[f"{b}sigmpro"] = frame[f"{B}_mag_error"]
    return pd.DataFrame(out)


def step_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per band and step of the table: its MJD range, exposures, measured median and
    percentiles, and the table's value (mag)."""
    out = []
    for b in photometry.BANDS:
        own = photometry.exposure_zero_points(
            rows[f"{b}flux"], rows[f"{b}mpro"], rows[f"{b}sigmpro"]
        )
        for start, end, value in photometry.period_ranges(b):
            zp = own[(rows["mjd"] >= start) & (rows["mjd"] < end) & np.isfinite(own)]
            out.append(
                {
                    "band": b,
                    "from_mjd": start,
                    "to_mjd": end,
                    "exposures": len(zp),
                    "median": np.median(zp) if len(zp) else np.nan,
                    "p01": np.percentile(zp, 1) if len(zp) else np.nan,
                    "p99": np.percentile(zp, 99) if len(zp) else np.nan,
                    "table": value,
                }
            )
    table = pd.DataFrame(out)
    table["table_minus_median"] = table["table"] - table["median"]
    return table


def main(argv=None) -> pd.DataFrame:
    """Run the benchmark with the command line ``argv``; print and return its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--timewise",
        type=Path,
        default=DEFAULT,
        help="folder of timewise's raw_photometry_*.csv (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    table = step_table(read_rows(args.timewise))
    print(table.to_markdown(index=False, floatfmt=".4f"))
    return table


if __name__ == "__main__":
    main()
