"""Visit binning on synthetic light curves with known means and planted outliers."""

import numpy as np
import pandas as pd
import pytest
from conftest import DEFAULT_BINNING

from neowise_lightcurves import binning


def synthetic(seed=0, n_targets=3, epochs=4, per_epoch=14, outliers=2):
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for t in range(n_targets):
        for e in range(epochs):
            true1 = 1000.0 * (t + 1) * (1 + 0.5 * e)
            true2 = 300.0 * (t + 1)
            mjd = 58000 + 182.6 * e + np.sort(rng.uniform(0, 1.2, per_epoch))
            f1 = true1 + rng.normal(0, 20, per_epoch)
            f2 = true2 + rng.normal(0, 15, per_epoch)
            f1[:outliers] += 5000  # planted outliers (cosmic rays, blends)
            rows.append(
                pd.DataFrame(
                    {
                        "target_id": f"T{t}",
                        "mjd": mjd,
                        "w1flux": f1,
                        "w1sigflux": 20.0,
                        "w2flux": f2,
                        "w2sigflux": 15.0,
                    }
                )
            )
            truth.append((f"T{t}", e, true1, true2))
    lc = pd.concat(rows, ignore_index=True).sort_values(["target_id", "mjd"], ignore_index=True)
    return lc, pd.DataFrame(truth, columns=["target_id", "epoch", "w1", "w2"])


def test_binned_fluxes_recover_known_means_despite_outliers():
    lc, truth = synthetic()
    b = binning.bin_visits(lc, *DEFAULT_BINNING)
    assert len(b) == len(truth)
    m = b.merge(truth, on=["target_id", "epoch"])
    # each epoch: 14 points of sigma 20 -> error of the median ~ 6.7 DN; 4 sigma allowed
    assert (np.abs(m["w1_flux"] - m["w1"]) < 4 * m["w1_flux_err"]).all()
    assert (np.abs(m["w2_flux"] - m["w2"]) < 4 * m["w2_flux_err"]).all()
    # the two planted outliers always go; a genuine point beyond 3 (MAD-)sigma now and then
    assert (m["w1_n"] <= 12).all()
    assert (12 * len(m) - m["w1_n"].sum()) / (12 * len(m)) < 0.05
    assert (14 * len(m) - m["w2_n"].sum()) / (14 * len(m)) < 0.05
    assert m["w1_flux_err"].between(4, 12).all()
    # magnitudes from the flux densities: Vega's W1 zero-magnitude flux density 309.540 Jy
    np.testing.assert_allclose(m["w1_mag"], -2.5 * np.log10(m["w1_flux_mjy"] / 309540.0))
    assert not m["w1_upper_limit"].any()


def test_epochs_upper_limits_and_null_fluxes():
    lc, _ = synthetic(n_targets=1, epochs=2)
    lc.loc[lc["mjd"] < 58100, "w2flux"] = np.nan  # epoch 0: no W2 flux at all
    lc.loc[lc["mjd"] > 58100, "w2flux"] = 5.0  # epoch 1: SNR ~ 1.3 binned -> upper limit
    lc.loc[lc["mjd"] > 58100, "w2sigflux"] = 15.0
    b = binning.bin_visits(lc, *DEFAULT_BINNING)
    assert b["epoch"].tolist() == [0, 1]
    assert b["w2_upper_limit"].tolist() == [True, True]
    assert b["w2_n"].tolist() == [0, 14]
    assert np.isnan(b["w2_mag_err"]).all()
    # the 2-sigma limit of the flux density: Vega's W2 zero-magnitude flux density 171.787 Jy
    limit = b.loc[1, "w2_flux_mjy"] + 2 * b.loc[1, "w2_flux_err_mjy"]
    assert b.loc[1, "w2_mag"] == pytest.approx(-2.5 * np.log10(limit / 171787.0))


def test_variability_statistics():
    lc, _ = synthetic(n_targets=2, epochs=5)
    b = binning.bin_visits(lc, *DEFAULT_BINNING)
    v = binning.variability(b)
    # W1 grows 50 % per epoch: hugely variable; W2 is constant: chi2 ~ 1
    assert (v["w1_chi2_red"] > 100).all()
    assert (v["w2_chi2_red"] < 5).all()
    assert v.loc["T0", "w1_amplitude_mag"] == pytest.approx(2.5 * np.log10(3.0), abs=0.05)
    assert (v["w1_n_epochs"] == 5).all()


def test_single_point_epochs_keep_their_own_error():
    lc = pd.DataFrame(
        {
            "target_id": ["a", "a"],
            "mjd": [58000.0, 58200.0],
            "w1flux": [100.0, 200.0],
            "w1sigflux": [10.0, 10.0],
            "w2flux": [50.0, np.nan],
            "w2sigflux": [5.0, np.nan],
        }
    )
    b = binning.bin_visits(lc, *DEFAULT_BINNING)
    assert b["w1_flux"].tolist() == [100.0, 200.0]
    assert b["w1_flux_err"].tolist() == [10.0, 10.0]
    assert b["w2_upper_limit"].tolist() == [False, True]
