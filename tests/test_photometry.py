"""Flux densities in mJy: known answers from the WISE zero-magnitude flux densities, each
exposure's zero point and its fallbacks, one scale across calibration periods, the columns of
every output with their units, and the epoch figures in DN, mJy and magnitudes."""

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from astropy.table import Table
from conftest import DEFAULT_BINNING, calibrated
from test_binning import synthetic
from test_lightcurves import TARGETS, matches

from neowise_lightcurves import binning, demo, lightcurves, photometry, plots, target_files

# typed here independently of the package: Explanatory Supplement IV.4.h.i.1 (Jarrett et al.
# 2011) zero-magnitude flux densities, and the median zero points of real IRSA rows from mid
# 2017 on (timewise's test data: w?mpro + 2.5 log10(w?flux); `python
# benchmarks/zero_points.py`); the synthetic light curves lie there
F0_MJY = {"w1": 309540.0, "w2": 171787.0}
ZP = {"w1": 20.7609, "w2": 19.6436}
MJY_RAW = ("w1flux_mjy", "w1sigflux_mjy", "w2flux_mjy", "w2sigflux_mjy")
MJY_BINNED = ("w1_flux_mjy", "w1_flux_err_mjy", "w2_flux_mjy", "w2_flux_err_mjy")


def test_zero_magnitude_is_the_published_flux_density():
    for band in ("w1", "w2"):
        assert photometry.mag_to_mjy(0.0, band) == pytest.approx(F0_MJY[band], rel=1e-12)
        # 5 mag fainter: exactly 100 times fainter; 2.5 mag: 10 times
        assert photometry.mag_to_mjy(5.0, band) == pytest.approx(F0_MJY[band] / 100, rel=1e-12)
        assert photometry.mag_to_mjy(2.5, band) == pytest.approx(F0_MJY[band] / 10, rel=1e-12)


def test_one_dn_and_a_source_at_the_zero_point():
    # 1 DN is a source of magnitude ZP: F0 10^(-0.4 ZP); W1: 1.5359e-3 mJy, W2: 2.3853e-3 mJy
    assert photometry.mag_to_mjy(ZP["w1"], "w1") == pytest.approx(1.5359e-3, rel=1e-4)
    assert photometry.mag_to_mjy(ZP["w2"], "w2") == pytest.approx(2.3853e-3, rel=1e-4)
    for band in ("w1", "w2"):
        assert photometry.mag_to_mjy(ZP[band], band) == pytest.approx(
            F0_MJY[band] * 10 ** (-0.4 * ZP[band]), rel=1e-12
        )
        # a source of 10^4 DN is ZP - 10 mag
        assert 1e4 * photometry.mag_to_mjy(ZP[band], band) == pytest.approx(
            photometry.mag_to_mjy(ZP[band] - 10, band), rel=1e-12
        )
        assert photometry.mjy_to_mag(photometry.mag_to_mjy(12.3, band), band) == pytest.approx(
            12.3, abs=1e-12
        )
        assert np.isnan(photometry.mjy_to_mag(-1.0, band))


def test_each_exposure_on_its_own_zero_point_else_its_visits_else_its_periods():
    frame = pd.DataFrame(
        {
            "mjd": [58000.0, 58000.1, 58000.2, 58000.3, 58200.0, 55300.0],
            "w1flux": [1000.0, 1000.0, -5.0, 3.0, 4.0, 100.0],
            "w1sigflux": 10.0,
            # two measured exposures on different zero points, one negative flux, one upper
            # limit (its mpro is a limit, not a measurement: sigma null), then a visit and an
            # MEP visit of nothing but limits
            "w1mpro": [13.0, 13.1, np.nan, 15.2, 15.0, 15.5],
            "w1sigmpro": [0.01, 0.01, np.nan, np.nan, np.nan, np.nan],
        }
    )
    visits = np.array([0, 0, 0, 0, 1, 2])
    zp = photometry.zero_points(frame, "w1", visits)
    own = [13.0 + 2.5 * np.log10(1000.0), 13.1 + 2.5 * np.log10(1000.0)]
    np.testing.assert_allclose(zp[:2], own, rtol=1e-12)
    np.testing.assert_allclose(zp[2:4], np.median(own), rtol=1e-12)  # the visit's median
    assert zp[4] == pytest.approx(ZP["w1"], abs=1e-9)  # NEOWISE from mid 2017 on
    assert zp[5] == pytest.approx(20.5, abs=1e-9)  # the AllWISE MEP's
    # without magnitudes at all: the periods' everywhere
    np.testing.assert_allclose(
        photometry.zero_points(frame.drop(columns=["w1mpro", "w1sigmpro"]), "w1", visits),
        [ZP["w1"]] * 5 + [20.5],
    )
    values = photometry.flux_densities(
        frame.assign(w2flux=1.0, w2sigflux=1.0, w2mpro=np.nan, w2sigmpro=np.nan), visits
    )
    np.testing.assert_allclose(
        values["w1flux_mjy"], frame["w1flux"] * F0_MJY["w1"] * 10 ** (-0.4 * zp), rtol=1e-12
    )
    assert values["w1flux_mjy"].iloc[2] < 0  # a negative flux keeps its sign


def test_a_constant_star_is_constant_in_mjy_across_calibration_periods():
    """The DN of a constant star step where the zero points do (2010-11, Dec 2013 - 2014,
    later); its flux densities do not."""
    mjd = np.array([55300.0, 55300.2, 56760.0, 56760.1, 56900.0, 56900.1, 58000.0, 58000.1])
    frame = pd.DataFrame({"mjd": mjd})
    visits = np.repeat(np.arange(4), 2)
    for band, mag in (("w1", 12.0), ("w2", 11.5)):
        zp = photometry.period_zero_points(mjd, band)
        assert len(np.unique(zp)) == 4
        dn = 10 ** (-0.4 * (mag - zp))
        frame[f"{band}flux"] = dn
        frame[f"{band}sigflux"] = dn / 50
        frame[f"{band}mpro"] = np.round(mag, 3)
        frame[f"{band}sigmpro"] = 0.02
        assert dn.max() / dn.min() > 1.005  # the DN step
    values = photometry.flux_densities(frame, visits)
    for band, mag in (("w1", 12.0), ("w2", 11.5)):
        np.testing.assert_allclose(
            values[f"{band}flux_mjy"], F0_MJY[band] * 10 ** (-0.4 * mag), rtol=1e-12
        )
    assert not values[["w1saturated", "w2saturated"]].any().any()


def test_saturated_exposures_are_flagged():
    frame = pd.DataFrame(
        {
            "mjd": 58000.0,
            "w1flux": 1e5,
            "w1sigflux": 1.0,
            "w2flux": 1e5,
            "w2sigflux": 1.0,
            "w1mpro": [8.0, 8.2, np.nan],
            "w1sigmpro": 0.01,
            "w2mpro": [6.6, 6.8, 6.0],
            "w2sigmpro": 0.01,
        }
    )
    values = photometry.flux_densities(frame, np.zeros(3, int))
    # the onsets of saturation, W1 8.1 mag and W2 6.7 mag
    assert values["w1saturated"].tolist() == [True, False, False]
    assert values["w2saturated"].tolist() == [True, False, True]


def test_light_curves_carry_zero_points_and_mjy_after_the_dn_columns():
    lc = lightcurves.build_lightcurves(matches(), TARGETS, "", gap_days=DEFAULT_BINNING[0])
    names = lc.column_names
    at = names.index("w2sigflux")
    assert names[at + 1 : at + 9] == list(photometry.EXPOSURE_COLUMNS)
    assert names[at + 1 : at + 9] == [
        f"{b}{c}" for b in ("w1", "w2") for c in ("zp", "flux_mjy", "sigflux_mjy", "saturated")
    ]
    assert list(names[: len(lightcurves.LEADING)]) == list(lightcurves.LEADING)
    for name in ("w1flux_mjy", "w2sigflux_mjy"):
        assert lc.schema.field(name).metadata[b"unit"] == b"mJy"
    assert lc.schema.field("w1zp").metadata[b"unit"] == b"mag"
    df = lc.to_pandas()
    for band in ("w1", "w2"):
        # no magnitudes in these matches: every exposure on its period's zero point
        zp = photometry.period_zero_points(df["mjd"], band)
        np.testing.assert_allclose(df[f"{band}zp"], zp)
        factor = F0_MJY[band] * 10 ** (-0.4 * zp)
        for dn in ("flux", "sigflux"):
            np.testing.assert_allclose(
                df[f"{band}{dn}_mjy"], df[f"{band}{dn}"] * factor, rtol=1e-12
            )
    # a null DN flux (cntr 3 has no W2 flux) stays null
    assert lc["w2flux"].null_count == 1
    assert lc["w2flux_mjy"].null_count == 1
    assert df.loc[df["cntr"] == 3, "w2flux_mjy"].isna().all()


def test_binned_mjy_is_the_binned_dn_times_the_factor():
    lc, _ = synthetic(n_targets=2, epochs=3)
    lc.loc[lc["mjd"] < 58100, "w2flux"] = np.nan  # an epoch without W2: NaN in mJy too
    b = binning.bin_visits(lc, *DEFAULT_BINNING)
    for band in ("w1", "w2"):
        factor = F0_MJY[band] * 10 ** (-0.4 * ZP[band])
        np.testing.assert_allclose(b[f"{band}_flux_mjy"], b[f"{band}_flux"] * factor, rtol=1e-12)
        np.testing.assert_allclose(
            b[f"{band}_flux_err_mjy"], b[f"{band}_flux_err"] * factor, rtol=1e-12
        )
        ok = ~b[f"{band}_upper_limit"]
        # and the binned magnitude is the same flux density
        np.testing.assert_allclose(
            photometry.mag_to_mjy(b.loc[ok, f"{band}_mag"], band),
            b.loc[ok, f"{band}_flux_mjy"],
            rtol=1e-9,
        )
    assert b["w2_flux_mjy"].isna().sum() == b["w2_flux"].isna().sum() > 0


@pytest.mark.parametrize("fmt", ["parquet", "ecsv", "fits"])
def test_per_target_files_read_back_in_mjy(tmp_path, fmt):
    lc, _ = synthetic(n_targets=1, epochs=2)
    lc["year"] = "year1"
    binned = binning.bin_visits(lc, *DEFAULT_BINNING)
    visits, _ = binning.epochs(lc["target_id"], lc["mjd"], DEFAULT_BINNING[0])
    lc = photometry.with_flux_densities(pa.Table.from_pandas(lc, preserve_index=False), visits)
    target_files.write_target_files(lc, binned, tmp_path, [fmt], {"cuts": ""})
    ext, astropy_format = target_files.FORMATS[fmt]
    raw_path, binned_path = tmp_path / f"T0.raw{ext}", tmp_path / f"T0.binned{ext}"
    raw = Table.read(raw_path, format=astropy_format)
    b = Table.read(binned_path, format=astropy_format)
    if fmt == "parquet":  # written by pyarrow: the unit in the field metadata
        import pyarrow.parquet as pq

        for path, names in ((raw_path, MJY_RAW), (binned_path, MJY_BINNED)):
            schema = pq.read_schema(path)
            assert all(schema.field(n).metadata[b"unit"] == b"mJy" for n in names)
        raw["w1flux_mjy"].unit = pq.read_schema(raw_path).field("w1flux_mjy").metadata[b"unit"]
    else:
        assert all(raw[n].unit == u.mJy for n in MJY_RAW)
        assert all(b[n].unit == u.mJy for n in MJY_BINNED)
    flux = u.Quantity(raw["w1flux_mjy"])
    np.testing.assert_allclose(
        flux.to_value(u.Jy), lc["w1flux"].to_numpy() * F0_MJY["w1"] / 1000 * 10 ** (-0.4 * ZP["w1"])
    )


def _lines(ax, marker):
    return [ln for ln in ax.lines if ln.get_marker() == marker]


def _figure_data(fig):
    """y of the binned circles and upper-limit triangles over every panel."""
    ys = {}
    for m in ("o", "v"):
        ys[m] = np.concatenate(
            [np.asarray(ln.get_ydata(), float) for ax in fig.axes for ln in _lines(ax, m)]
        )
    return ys


def test_epoch_figures_in_each_unit():
    import matplotlib.pyplot as plt

    lc, _ = synthetic(n_targets=1, epochs=3, outliers=0)
    lc.loc[lc["mjd"] > 58300, "w2flux"] = 3.0  # the last epoch's W2: an upper limit
    b = binning.bin_visits(lc, *DEFAULT_BINNING)
    assert b["w2_upper_limit"].sum() == 1 and not b["w1_upper_limit"].any()
    ok1 = b["w1_flux"].to_numpy()
    ok2 = b.loc[~b["w2_upper_limit"], "w2_flux"].to_numpy()
    lim = b.loc[b["w2_upper_limit"]].iloc[0]
    want_lim_dn = max(lim["w2_flux"], 0) + 2 * lim["w2_flux_err"]
    factor = {band: F0_MJY[band] * 10 ** (-0.4 * ZP[band]) for band in ZP}
    expect = {
        "dn": (np.r_[ok1, ok2], want_lim_dn, "DN"),
        "mjy": (np.r_[ok1 * factor["w1"], ok2 * factor["w2"]], want_lim_dn * factor["w2"], "mJy"),
        "mag": (
            np.r_[ZP["w1"] - 2.5 * np.log10(ok1), ZP["w2"] - 2.5 * np.log10(ok2)],
            ZP["w2"] - 2.5 * np.log10(want_lim_dn),
            "mag",
        ),
    }
    lc = calibrated(lc)
    for unit, (circles, limit, label) in expect.items():
        fig = plots.epoch_figure(lc, "T", b, DEFAULT_BINNING[0], flux_unit=unit)
        assert label in fig._supylabel.get_text()
        ys = _figure_data(fig)
        # each binned point twice: its epoch's panel and the whole baseline
        np.testing.assert_allclose(np.sort(ys["o"]), np.sort(np.r_[circles, circles]), rtol=1e-9)
        np.testing.assert_allclose(ys["v"], [limit, limit], rtol=1e-9)
        for ax in fig.axes:
            assert ax.yaxis_inverted() == (unit == "mag")
        # single exposures: mJy and mag of the raw fluxes
        dots = np.asarray(_lines(fig.axes[0], ".")[0].get_ydata(), float)
        raw = lc["w1flux"].to_numpy()
        want = {"dn": raw, "mjy": raw * factor["w1"], "mag": ZP["w1"] - 2.5 * np.log10(raw)}
        np.testing.assert_allclose(dots, want[unit], rtol=1e-9)
        w2 = np.asarray(_lines(fig.axes[0], ".")[1].get_ydata(), float)
        faint = lc["w2flux"].to_numpy() < 2 * lc["w2sigflux"].to_numpy()  # SNR < 2
        assert faint.sum() == 14 and np.isnan(w2[faint]).all() == (unit == "mag")
        plt.close(fig)
    with pytest.raises(ValueError, match="plots.flux_unit.*'jy'"):
        plots.epoch_figure(lc, "T", b, DEFAULT_BINNING[0], flux_unit="jy")


def test_demo_figure_in_mjy(tiny_catalog, tmp_path):
    """The demo sky's OUTBURST in mJy, as `--config plots={flux_unit:mjy}` draws it."""
    import neowise_lightcurves as nl

    targets = demo.build_sky(1, 5).targets
    mine = targets[targets["target_id"] == "OUTBURST"]
    raw, binned = nl.fetch(mine, years=[1, 2], root=str(tiny_catalog), binned=True)
    lc, b = raw.to_pandas(), binned.to_pandas()
    assert raw["w1flux_mjy"].unit == u.mJy and binned["w1_flux_mjy"].unit == u.mJy
    summary = pd.DataFrame({"target_id": ["OUTBURST"], "n_detections": [len(lc)]})
    (path,) = plots.plot_targets(
        lc, summary, tmp_path, "all", b, DEFAULT_BINNING[0], flux_unit="mjy"
    )
    assert path.stat().st_size > 5000
    # OUTBURST's binned W1 spans mJy, not thousands (DN)
    ok = b[~b["w1_upper_limit"]]
    assert 0.05 < ok["w1_flux_mjy"].median() < 1000
