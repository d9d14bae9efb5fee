"""Periods: known periods recovered on NEOWISE's cadence, white noise not reported significant
more often than the threshold says, the window's aliases flagged, the demo's periodic targets
found and its constant ones not."""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pandas as pd
import pytest
from conftest import DEFAULTS, calibrated

from neowise_lightcurves import demo, periods, plots, summary
from neowise_lightcurves import sky as sk

OPTIONS = dict(DEFAULTS["periods"])
ORBIT = 94.6 / 1440.0  # d
TRUE_PERIOD = 0.2871  # the demo's periodic targets (d)


def cadence(rng, years=3, exposures=12, jitter=0.002):
    """NEOWISE-like times (d): two visits a year ~182.6 d apart, starting a few days off, each
    ``exposures`` one orbit apart, ~6 % of them missing."""
    t = []
    for y in range(years):
        for v in range(2):
            start = 56700.0 + 365.25 * y + 182.6 * v + rng.uniform(-3, 3)
            t.append(start + ORBIT * np.arange(exposures) + rng.normal(0, jitter, exposures))
    t = np.concatenate(t)
    return np.sort(t[rng.random(len(t)) > 0.06])


def test_frequency_grid():
    f = periods.frequency_grid(100.0, 1.0, 5)
    assert f[0] == pytest.approx(0.01)
    assert np.diff(f) == pytest.approx(np.full(len(f) - 1, 0.002))
    assert f[-1] <= 1.0 < f[-1] + 0.002
    assert len(f) == 496  # 0.01, 0.012, ..., 1.0 (floating point may drop the last)
    assert len(periods.frequency_grid(0.0, 1.0, 5)) == 0
    assert len(periods.frequency_grid(0.5, 1.0, 5)) == 0  # baseline shorter than 1/fmax


def test_false_alarm_probability_is_astropys_baluev(monkeypatch):
    """Equal to astropy's ``method="baluev"`` (which needs SciPy's gammaln: given it here from
    :func:`math.lgamma`)."""
    from astropy.timeseries import LombScargle

    special = types.ModuleType("scipy.special")
    special.gammaln = np.vectorize(math.lgamma)
    scipy = types.ModuleType("scipy")
    scipy.special = special
    monkeypatch.setitem(sys.modules, "scipy", scipy)
    monkeypatch.setitem(sys.modules, "scipy.special", special)
    rng = np.random.default_rng(3)
    t = cadence(rng)
    dy = rng.uniform(5, 15, len(t))
    y = rng.normal(100, dy)
    ls = LombScargle(t, y, dy)
    # astropy's fmax is the last point of its own grid below maximum_frequency
    _, fmax = ls.autofrequency(maximum_frequency=7.5, return_freq_limits=True)
    assert 7.49 < fmax <= 7.5
    for power in (0.05, 0.2, 0.4, 0.7):
        ours = periods.false_alarm_probability(power, t, dy, fmax)
        theirs = ls.false_alarm_probability(power, method="baluev", maximum_frequency=7.5)
        assert ours == pytest.approx(float(theirs), rel=1e-9)


def test_window_function():
    """1 near zero frequency and at the frequency of strictly regular sampling (to rounding:
    the sine term vanishes there); small elsewhere."""
    t = 1000.0 + ORBIT * np.arange(40)
    dy = np.ones_like(t)
    w = periods.window_power(t, dy, np.array([1e-4, 1 / ORBIT, 2 / ORBIT, 3.3]))
    assert w[:3] == pytest.approx(1.0, abs=0.02)
    assert w[3] < 0.1


@pytest.mark.parametrize(
    "period, years, exposures",
    [(0.2871, 3, 12), (0.55, 11, 24), (0.137, 11, 14), (2.7, 5, 36), (1300.0, 11, 12)],
)
def test_known_period_on_neowise_cadence(period, years, exposures):
    """A sinusoid of 15 % amplitude, 5 % errors: the period found within one resolution element
    (1/baseline) in frequency, significant, not flagged."""
    rng = np.random.default_rng(int(period * 1000))
    t = cadence(rng, years, exposures)
    dy = np.full(len(t), 5.0)
    y = 100 + 15 * np.sin(2 * np.pi * t / period + 1.0) + rng.normal(0, 5, len(t))
    res = periods.best_period(t, y, dy, 7.5, 5, 0.5)
    baseline = t.max() - t.min()
    assert abs(1 / res["period_days"] - 1 / period) < 1 / baseline
    assert res["period_fap"] < 1e-10
    assert not res["period_alias"]


def test_white_noise_is_rarely_significant():
    """Constant sources with NEOWISE's cadence and Gaussian errors: the fraction with a false
    alarm probability below 5 % is at most 5 % (Baluev's is an upper bound), allowing three
    binomial standard deviations."""
    rng = np.random.default_rng(11)
    n, threshold = 200, 0.05
    faps = []
    for _ in range(n):
        t = cadence(rng, 3, int(rng.integers(10, 20)))
        dy = rng.uniform(3, 10, len(t))
        y = rng.normal(1000, dy)
        faps.append(periods.best_period(t, y, dy, 2.0, 5, 0.5)["period_fap"])
    rate = np.mean(np.array(faps) < threshold)
    assert rate <= threshold + 3 * math.sqrt(threshold * (1 - threshold) / n)
    assert np.median(faps) > 0.3  # not a bound so loose that nothing could fail


def test_a_trend_is_flagged_as_an_alias():
    """A steady fade peaks where the window does (near zero frequency, or one of the visit
    cadence's peaks k / 182.6 d)."""
    rng = np.random.default_rng(5)
    t = cadence(rng, 5, 12)
    dy = np.full(len(t), 2.0)
    fade = 100 - 5 * (t - t.min()) / 365.25 + rng.normal(0, 2, len(t))
    res = periods.best_period(t, fade, dy, 7.5, 5, 0.5)
    assert res["period_fap"] < 1e-10 and res["period_alias"]


def test_too_few_detections_and_missing_fluxes():
    rng = np.random.default_rng(2)
    t = cadence(rng)
    frame = pd.DataFrame(
        {
            "target_id": ["A"] * len(t) + ["B"] * 10,
            "mjd": np.concatenate([t, t[:10]]),
            "w1flux": np.concatenate([rng.normal(100, 5, len(t)), np.full(10, 100.0)]),
            "w1sigflux": 5.0,
        }
    )
    frame.loc[:40, "w1flux"] = np.nan  # A keeps len(t) - 41 fluxes
    frame = calibrated(frame)
    opts = dict(OPTIONS, band="w1", min_detections=len(t) - 41)
    res = periods.periods(frame, opts)
    assert list(res.index) == ["A", "B"]
    assert list(res.columns) == list(periods.COLUMNS)
    assert np.isfinite(res.loc["A", "period_days"]) and np.isnan(res.loc["B", "period_days"])
    assert not res.loc["B", "period_significant"] and not res.loc["B", "period_alias"]
    res = periods.periods(frame, dict(opts, min_detections=len(t) - 40))
    assert res["period_days"].isna().all()
    flat = periods.best_period(t, np.full(len(t), 100.0), np.full(len(t), 5.0), 7.5, 5, 0.5)
    assert np.isnan(flat["period_days"]) and not flat["period_alias"]
    empty = periods.periods(frame.iloc[:0], opts)
    assert empty.empty and list(empty.columns) == list(periods.COLUMNS)


@pytest.fixture(scope="module")
def demo_periods():
    """The demo sky's three years, each target's detections (within 1 arcsec, cc_flags clean,
    by brute force), their periods with the default settings."""
    sky = demo.build_sky(1, 5)
    det = pd.concat([demo.detections(sky, f"year{y}") for y in (1, 2, 3)], ignore_index=True)
    det = det[det["cc_flags"] == "0000"]
    xyz = sk.unit_vectors(det["ra"], det["dec"])
    rows = []
    for t in sky.targets.itertuples():
        cos = xyz @ sk.unit_vectors([t.ra], [t.dec])[0]
        sel = det[np.degrees(np.arccos(np.clip(cos, -1, 1))) * 3600 < 1.0]
        rows.append(sel.assign(target_id=t.target_id))
    lc = pd.concat(rows, ignore_index=True)
    lc = calibrated(lc[["target_id", "mjd", "w1flux", "w1sigflux", "w1mpro", "w1sigmpro"]])
    return sky.targets.set_index("target_id")["kind"], periods.periods(lc, OPTIONS)


def test_demo_periodic_target_recovered(demo_periods):
    kind, res = demo_periods
    # 36-exposure visits (2.4 d): the period found up to one cycle-count alias between visits
    # (1 / 182.6 d apart in frequency, 0.00045 d in period; the full demo run finds the next)
    df = abs(1 / res.loc["PERIODIC", "period_days"] - 1 / TRUE_PERIOD)
    assert df < 1.5 / 182.6
    assert res.loc["PERIODIC", "period_significant"]
    assert not res.loc["PERIODIC", "period_alias"]
    # SCP-1 and STAR-A00 have the same period in 12-14-exposure visits (~0.8 d): found up to
    # the cycle count between visits (aliases k / 182.6 d apart in frequency, of nearly equal
    # power; here k = 2 and -5): within 0.05 / d, 0.004 d in period
    for tid in ("SCP-1", "STAR-A00"):
        assert kind[tid] == "periodic"
        df = abs(1 / res.loc[tid, "period_days"] - 1 / TRUE_PERIOD)
        assert df < 0.05
        assert res.loc[tid, "period_significant"]


def test_demo_constant_targets_not_significant(demo_periods):
    kind, res = demo_periods
    constant = kind[kind == "constant"].index
    assert len(constant) > 20
    assert not res.loc[res.index.intersection(constant), "period_significant"].any()
    assert res.loc["FADER", "period_alias"]  # its fade peaks where the window does


def test_summary_gets_period_columns_for_every_target():
    targets = pd.DataFrame({"target_id": ["B", "A", "Z"], "ra": [1.0, 2.0, 3.0], "dec": 0.0})
    rng = np.random.default_rng(4)
    t = cadence(rng)
    lc = pd.DataFrame(
        {
            "target_id": "A",
            "mjd": t,
            "year": "year1",
            "w1flux": 100 + 20 * np.sin(2 * np.pi * t / 0.41) + rng.normal(0, 3, len(t)),
            "w1sigflux": 3.0,
            "w2flux": 50.0,
            "w2sigflux": 3.0,
        }
    )
    from neowise_lightcurves import binning

    lc = calibrated(lc)
    binned = binning.bin_visits(lc, 30.0, 3.0, 5)
    found = periods.periods(lc, OPTIONS)
    out = summary.summarize(lc, targets, binned, periods=found)
    assert list(out.columns) == list(summary.COLUMNS) + list(periods.COLUMNS)
    assert list(out["target_id"]) == ["B", "A", "Z"]
    assert out.loc[1, "period_days"] == pytest.approx(0.41, abs=0.004)  # up to 6-month aliases
    assert out.loc[1, "period_significant"]
    assert out.loc[[0, 2], "period_days"].isna().all()
    assert out["period_significant"].dtype == bool and out["period_alias"].dtype == bool
    assert list(summary.summarize(lc, targets, binned).columns) == list(summary.COLUMNS)


def matplotlib_image_height(path) -> int:
    import matplotlib.image

    return matplotlib.image.imread(path).shape[0]


def test_epoch_figure_has_a_folded_panel(tmp_path):
    rng = np.random.default_rng(6)
    t = cadence(rng)
    lc = pd.DataFrame(
        {
            "target_id": "A",
            "mjd": t,
            "w1flux": 100 + 20 * np.sin(2 * np.pi * t / 0.41),
            "w1sigflux": 3.0,
            "w2flux": 50.0,
            "w2sigflux": 3.0,
        }
    )
    lc = calibrated(lc)
    plain = plots.epoch_figure(lc, "A", None, 30.0, flux_unit=DEFAULTS["plots"]["flux_unit"])
    folded = plots.epoch_figure(
        lc, "A", None, 30.0, flux_unit=DEFAULTS["plots"]["flux_unit"], period=0.41
    )
    assert len(folded.axes) == len(plain.axes) + 1
    ax = folded.axes[-1]  # added last, drawn second
    assert "P = 0.41 d" in ax.get_title()
    x = np.concatenate([line.get_xdata() for line in ax.get_lines()])
    assert x.min() >= 0 and x.max() < 2
    table = pd.DataFrame(
        {"target_id": ["A", "B", "C"], "n_detections": [len(t)] * 3, "period_days": 0.41}
        | {"period_significant": [True, True, False], "period_alias": [False, True, False]}
    )
    assert plots._significant_periods(table) == {"A": 0.41}  # B: an alias; C: not significant
    two = pd.concat([lc, lc.assign(target_id="B")], ignore_index=True)
    written = plots.plot_targets(
        two, table, tmp_path, 2, None, 30.0, flux_unit=DEFAULTS["plots"]["flux_unit"]
    )
    assert [p.name for p in written] == ["A.png", "B.png"]
    sizes = [matplotlib_image_height(p) for p in written]
    assert sizes[0] > sizes[1]  # A's figure has the folded panel's row
