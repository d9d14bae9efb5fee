"""Visit binning on synthetic light curves with known means and planted outliers."""

import math

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


def test_without_uncertainties_the_binned_errors_come_from_the_scatter():
    """match.columns: notebook reads no w?sigflux: the fluxes are clipped and binned all the
    same, the same exposures kept as with their errors, each epoch's error the median's
    standard error from its scatter."""
    lc, truth = synthetic()
    with_errors = binning.bin_visits(lc, *DEFAULT_BINNING)
    bare = binning.bin_visits(lc.assign(w1sigflux=np.nan, w2sigflux=np.nan), *DEFAULT_BINNING)
    for b in ("w1", "w2"):
        assert (bare[f"{b}_n"] == with_errors[f"{b}_n"]).all()
        np.testing.assert_allclose(bare[f"{b}_flux_mjy"], with_errors[f"{b}_flux_mjy"])
        assert (bare[f"{b}_flux_err_mjy"] > 0).all() and not bare[f"{b}_upper_limit"].any()
    m = bare.merge(truth, on=["target_id", "epoch"])
    assert (np.abs(m["w1_flux"] - m["w1"]) < 4 * m["w1_flux_err"]).all()


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


def gaussian_visits(rng, sizes, exposures, planted=0, amplitude=0.0):
    """Visits of pure Gaussian noise (sigma 1): for each size n, ceil(exposures / n) visits,
    the first ``planted`` values of each moved by +``amplitude``. Returns the values, the
    group numbers, each row's visit size and whether it was planted."""
    per = [-(-exposures // n) for n in sizes]
    n_row = np.repeat(sizes, np.multiply(per, sizes))
    groups = np.repeat(np.arange(sum(per)), np.repeat(sizes, per))
    rank = np.arange(len(groups)) - np.searchsorted(groups, groups)
    values = rng.standard_normal(len(groups))
    values[rank < planted] += amplitude
    return pd.Series(values), groups, n_row, rank < planted


def by_size(flag, n_row):
    return pd.Series(flag).groupby(n_row).mean()


def test_clipping_rejects_gaussian_noise_at_the_rate_of_a_3_sigma_cut():
    # issue 23: the old rule (MAD re-estimated from the kept points each round) rejected 4-7 %
    # of pure noise at n = 6-11; a true 3-sigma cut rejects 0.27 %
    rng = np.random.default_rng(23)
    sizes = list(range(5, 31))
    values, groups, n_row, _ = gaussian_visits(rng, sizes, 80_000)
    keep = binning.clip_mask(values, groups, 3.0, DEFAULT_BINNING[2])
    rate = by_size(~keep, n_row)
    assert len(rate) == len(sizes)
    assert (rate <= 0.005).all(), rate[rate > 0.005]
    assert (rate >= 0.001).all(), rate[rate < 0.001]  # ... and not by rejecting nothing
    assert 0.0024 < (~keep).mean() < 0.0031  # 2.1 M values, 0.27 % expected


@pytest.mark.parametrize("sigma, exposures", [(2.0, 20_000), (2.5, 20_000), (3.5, 100_000)])
def test_clipping_rate_follows_any_sigma(sigma, exposures):
    # pooled over n = 5..30, >= 1,000 rejections expected: within 15 % of the claimed rate
    rng = np.random.default_rng(int(10 * sigma))
    values, groups, n_row, _ = gaussian_visits(rng, list(range(5, 31)), exposures)
    keep = binning.clip_mask(values, groups, sigma, 5)
    claimed = math.erfc(sigma / math.sqrt(2))  # P(|z| > sigma)
    assert abs((~keep).mean() / claimed - 1) < 0.15


def test_clipping_removes_real_outliers():
    rng = np.random.default_rng(5)
    sizes = list(range(5, 31))
    # one 10-sigma outlier a visit: removed in >= 99 % of visits from n = 16 (with 0.27 % false
    # rejections no rule reaches that at n = 5-7: the scale comes from 4-6 points)
    values, groups, n_row, planted = gaussian_visits(rng, sizes, 60_000, planted=1, amplitude=10)
    removed = by_size(~binning.clip_mask(values, groups, 3.0, 5)[planted], n_row[planted])
    assert (removed[removed.index >= 16] >= 0.99).all(), removed
    assert (removed[removed.index >= 10] >= 0.90).all(), removed
    assert (removed >= 0.12).all(), removed
    # two of them
    values, groups, n_row, planted = gaussian_visits(rng, sizes, 60_000, planted=2, amplitude=10)
    removed = by_size(~binning.clip_mask(values, groups, 3.0, 5)[planted], n_row[planted])
    assert (removed[removed.index >= 20] >= 0.99).all(), removed
    # gross artefacts (100 sigma) go from n = 5
    values, groups, n_row, planted = gaussian_visits(rng, sizes, 60_000, planted=1, amplitude=100)
    removed = by_size(~binning.clip_mask(values, groups, 3.0, 5)[planted], n_row[planted])
    assert (removed >= 0.99).all(), removed


def test_clipping_small_groups_and_missing_values():
    groups, values, expected = [], [], []
    for g, (vals, kept) in enumerate(
        [
            ([5.0], [True]),  # one value, or two: nothing to judge by
            ([0.0, 1e9], [True, True]),
            ([np.nan, 1.0, np.nan], [False, True, False]),  # NaN never kept
            ([1.0, 1.0, 1.0, 1e9, 2.0, np.nan], [True] * 5 + [False]),  # MAD 0: all kept
            ([1.0, 1.2, 0.9, 50.0], [True, True, True, False]),  # 50 is 200 MAD-sigma out
            ([np.nan, np.nan], [False, False]),
        ]
    ):
        groups += [g] * len(vals)
        values += vals
        expected += kept
    values = pd.Series(values)
    assert binning.clip_mask(values, np.array(groups), 3.0, 5).tolist() == expected
    # no rounds: every value kept
    assert binning.clip_mask(values, np.array(groups), 3.0, 0).tolist() == values.notna().tolist()


def test_clip_limit():
    # the Student-t quantile against closed forms: nu = 1 (Cauchy), nu = 2
    for sigma in (0.5, 1.0, 3.0, 5.0):
        p = math.erfc(sigma / math.sqrt(2))
        cauchy = math.tan(math.pi * (1 - p) / 2)
        assert binning.t_quantile(sigma, 1.0) == pytest.approx(cauchy, rel=1e-10)
        assert binning.t_quantile(sigma, 2.0) == pytest.approx(
            math.sqrt(2 / (p * (2 - p)) - 2), rel=1e-10
        )
        assert binning.t_quantile(sigma, 1e9) == pytest.approx(sigma, rel=1e-6)
    assert binning.clip_limit(2, 3.0) == math.inf
    limits = [binning.clip_limit(n, 3.0) for n in (6, 10, 20, 100, 10_000)]
    assert limits == sorted(limits, reverse=True)
    assert 3.0 < limits[-1] < 3.01
