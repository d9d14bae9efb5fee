import numpy as np
import pandas as pd
import pytest
from conftest import DEFAULT_BINNING, DEFAULTS, calibrated

from neowise_lightcurves import binning, cuts, lightcurves, photometry, plots, summary
from neowise_lightcurves.filenames import safe_filename


def matches():
    return pd.DataFrame(
        {
            "target_id": ["b", "a", "a", "a", "b", "gone"],
            "cntr": [5, 1, 2, 3, 6, 9],
            "source_id": list("uvwxyz"),
            "mjd": [57000.0, 56700.0, 56690.0, 56900.0, 56999.0, 1.0],
            "ra": 1.0,
            "dec": 1.0,
            "dist_arcsec": 0.1,
            "year": ["year2", "year1", "year1", "year1", "year2", "year1"],
            "w1flux": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "w2flux": [1.0, 2.0, 3.0, np.nan, 5.0, 6.0],
            "w1sigflux": 0.1,
            "w2sigflux": 0.2,
            "cc_flags": ["0000", "0000", "d000", "0000", "0000", "0000"],
            "qi_fact": [1.0, 0.5, 1.0, 1.0, 1.0, 1.0],
        }
    )


def build(matches, targets, cuts):
    """The light curves as a DataFrame (build_lightcurves gives Arrow)."""
    return lightcurves.build_lightcurves(
        matches, targets, cuts, gap_days=DEFAULT_BINNING[0]
    ).to_pandas()


TARGETS = pd.DataFrame(
    {"target_id": ["a", "b", "c"], "ra": [1.0, 2.0, 3.0], "dec": [0.0, 0.0, 0.0]}
)


def test_sorted_by_target_then_time_and_cut():
    lc = build(matches(), TARGETS, "cc_flags == '0000'")
    assert lc["target_id"].tolist() == ["a", "a", "b", "b"]
    assert lc["mjd"].tolist() == [56700.0, 56900.0, 56999.0, 57000.0]
    assert list(lc.columns[: len(lightcurves.LEADING)]) == list(lightcurves.LEADING)
    assert "gone" not in set(lc["target_id"])  # not in the target list any more


def test_cuts_with_string_methods_and_empty_cut():
    lc = build(matches(), TARGETS, "cc_flags.str.startswith('00') and qi_fact >= 1")
    assert set(lc["cntr"]) == {3, 5, 6}
    assert len(build(matches(), TARGETS, "")) == 5


def test_summary_has_every_target():
    m = matches()
    lc = build(m, TARGETS, "")
    s = summary.summarize(
        lc,
        TARGETS,
        binning.bin_visits(lc, *DEFAULT_BINNING),
        n_before_cuts=m.groupby("target_id").size(),
    )
    assert s["target_id"].tolist() == ["a", "b", "c"]
    a, b, c = (s.iloc[i] for i in range(3))
    assert a.n_detections == 3 and a.n_epochs == 2  # 56690, 56700 | 56900
    assert b.n_epochs == 1 and b.time_span_days == pytest.approx(1.0)
    assert c.n_detections == 0 and c.n_epochs == 0 and np.isnan(c.mjd_first)
    assert a.w2flux_median == pytest.approx(2.5)


def test_epochs_split_at_gaps_and_targets():
    group, epoch = binning.epochs(
        ["a"] * 6 + ["b"] * 2, np.array([0, 1, 2, 40, 41, 100.5, 0, 50]), 30.0
    )
    np.testing.assert_array_equal(epoch, [0, 0, 0, 1, 1, 2, 0, 1])
    np.testing.assert_array_equal(group, [0, 0, 0, 1, 1, 2, 3, 4])
    _, epoch = binning.epochs(["a"] * 6, np.array([0, 1, 2, 40, 41, 100.5]), 0.5)
    np.testing.assert_array_equal(epoch, [0, 1, 2, 3, 4, 5])


def test_figures_split_epochs_as_the_binning_does(tmp_path):
    """With a gap other than 30 d, every binned point is drawn in its own epoch's panel."""
    rng = np.random.default_rng(2)
    # visits 12 d apart, each ~1 d long: one epoch per visit at gap_days=5, one at 30
    mjd = np.concatenate([57000 + 12 * v + np.sort(rng.uniform(0, 1, 8)) for v in range(5)])
    lc = pd.DataFrame(
        {
            "target_id": "T",
            "mjd": mjd,
            "w1flux": 100 + rng.normal(0, 1, mjd.size),
            "w1sigflux": 1.0,
            "w2flux": 50 + rng.normal(0, 1, mjd.size),
            "w2sigflux": 1.0,
        }
    )
    import matplotlib.pyplot as plt

    lc = calibrated(lc)
    for gap, n_epochs in ((5.0, 5), (30.0, 1)):
        binned = binning.bin_visits(lc, gap, 3.0, 5)
        assert len(binned) == n_epochs
        fig = plots.epoch_figure(lc, "T", binned, gap, flux_unit=DEFAULTS["plots"]["flux_unit"])
        panels = fig.axes[1:]
        assert len(panels) == n_epochs
        for i, ax in enumerate(panels):
            dots, circles = (
                np.concatenate(
                    [np.asarray(ln.get_xdata(), float) for ln in ax.lines if ln.get_marker() == m]
                )
                for m in (".", "o")
            )
            want = binned.loc[binned["epoch"] == i, ["w1_mjd", "w2_mjd"]].to_numpy(float).ravel()
            np.testing.assert_allclose(np.sort(circles), np.sort(want))
            assert dots.min() <= circles.min() and circles.max() <= dots.max()
        plt.close(fig)


def test_cut_columns_named_and_unknown_rejected():
    assert cuts.cut_columns("cc_flags == '0000' and abs(w1snr) > 3") == ("cc_flags", "w1snr")
    assert cuts.cut_columns("") == ()
    with pytest.raises(cuts.CutsError, match="unknown column\\(s\\): w9flux"):
        cuts.cut_columns("w9flux > 3")
    with pytest.raises(cuts.CutsError, match="not a valid pandas query"):
        cuts.cut_columns("cc_flags ==")


def test_plot_selection_and_files(tmp_path):
    lc = build(matches(), TARGETS, "")
    b = binning.bin_visits(lc, *DEFAULT_BINNING)
    s = summary.summarize(lc, TARGETS, b)
    assert plots.select_targets(s, 1) == ["a"]
    assert plots.select_targets(s, "all") == ["a", "b"]
    written = plots.plot_targets(
        lc, s, tmp_path, "all", b, DEFAULT_BINNING[0], flux_unit=DEFAULTS["plots"]["flux_unit"]
    )
    assert [p.name for p in written] == [f"{safe_filename(t)}.png" for t in ("a", "b")]
    assert all(p.stat().st_size > 5000 for p in written)
    plots.overview_figures(s, tmp_path / "v.png", tmp_path / "s.png")
    assert (tmp_path / "v.png").stat().st_size > 5000 and (tmp_path / "s.png").stat().st_size > 5000


def test_cut_presets():
    assert cuts.expression("notebook") == "cc_flags == '0000'"
    assert set(cuts.cut_columns("timewise")) == {
        "nb",
        "na",
        "cc_flags",
        "qi_fact",
        "saa_sep",
        "moon_masked",
    }
    m = matches().assign(nb=1, na=0, saa_sep=10.0, moon_masked="00")
    kept = m[cuts.cut_mask(m, "timewise")]
    assert set(kept["cntr"]) == {3, 5, 6, 9}


def test_build_lightcurves_matches_plain_pandas():
    """Sorting and de-duplicating on integer codes gives what pandas' own sort and
    drop_duplicates give, repeated rows and missing times included."""
    rng = np.random.default_rng(4)
    n = 2000
    m = pd.DataFrame(
        {
            "target_id": rng.choice(["t10", "t2", "t1", "x", "é", "old"], n),
            "cntr": rng.integers(0, 300, n),
        }
    )
    m["mjd"] = 56000 + (m["cntr"] * 7919 % 1000).astype(float)
    m.loc[m["cntr"] % 97 == 0, "mjd"] = np.nan
    for c in ("source_id", "ra", "dec", "dist_arcsec", "year", "cc_flags"):
        m[c] = m["cntr"].astype(str) if c in ("source_id", "year", "cc_flags") else 1.0
    for c in ("w1flux", "w1sigflux", "w2flux", "w2sigflux"):
        m[c] = m["cntr"] + 1.0
    m = m.drop_duplicates(["target_id", "cntr"])  # a detection has one mjd ...
    m = pd.concat([m, m.sample(300, random_state=1)])  # ... and may come twice
    targets = pd.DataFrame({"target_id": ["t1", "t10", "t2", "x", "é", "none"]})
    got = build(m, targets, "cntr != 5")
    want = (
        m[m["target_id"].isin(targets["target_id"]) & (m["cntr"] != 5)]
        .drop_duplicates(["target_id", "cntr"])
        .sort_values(["target_id", "mjd", "cntr"], kind="stable", ignore_index=True)
    )
    # the base columns the matches lack come as nulls (match.columns: notebook)
    added = [c for c in got.columns if c not in m.columns and c not in photometry.EXPOSURE_COLUMNS]
    assert set(added) == {"w1mpro", "w1sigmpro", "w2mpro", "w2sigmpro", "nb", "na"}
    assert got[added].isna().all().all()
    got = got.drop(columns=[*photometry.EXPOSURE_COLUMNS, *added])
    pd.testing.assert_frame_equal(got, want[list(got.columns)])
