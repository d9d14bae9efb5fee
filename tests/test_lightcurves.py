import numpy as np
import pandas as pd
import pytest

from neowise_lightcurves import binning, cuts, lightcurves, plots, summary


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
    return lightcurves.build_lightcurves(matches, targets, cuts).to_pandas()


TARGETS = pd.DataFrame(
    {"target_id": ["a", "b", "c"], "ra": [1.0, 2.0, 3.0], "dec": [0.0, 0.0, 0.0]}
)


def test_sorted_by_target_then_time_and_cut():
    lc = build(matches(), TARGETS, "cc_flags == '0000'")
    assert lc["target_id"].tolist() == ["a", "a", "b", "b"]
    assert lc["mjd"].tolist() == [56700.0, 56900.0, 56999.0, 57000.0]
    assert list(lc.columns[:8]) == list(lightcurves.LEADING)
    assert "gone" not in set(lc["target_id"])  # not in the target list any more


def test_cuts_with_string_methods_and_empty_cut():
    lc = build(matches(), TARGETS, "cc_flags.str.startswith('00') and qi_fact >= 1")
    assert set(lc["cntr"]) == {3, 5, 6}
    assert len(build(matches(), TARGETS, "")) == 5


def test_summary_has_every_target():
    m = matches()
    lc = build(m, TARGETS, "")
    s = summary.summarize(
        lc, TARGETS, binning.bin_visits(lc), n_before_cuts=m.groupby("target_id").size()
    )
    assert s["target_id"].tolist() == ["a", "b", "c"]
    a, b, c = (s.iloc[i] for i in range(3))
    assert a.n_detections == 3 and a.n_epochs == 2  # 56690, 56700 | 56900
    assert b.n_epochs == 1 and b.time_span_days == pytest.approx(1.0)
    assert c.n_detections == 0 and c.n_epochs == 0 and np.isnan(c.mjd_first)
    assert a.w2flux_median == pytest.approx(2.5)


def test_epochs_split_at_gaps():
    np.testing.assert_array_equal(
        lightcurves.epochs(np.array([0, 1, 2, 40, 41, 100.5])), [0, 0, 0, 1, 1, 2]
    )


def test_cut_columns_named_and_unknown_rejected():
    assert cuts.cut_columns("cc_flags == '0000' and abs(w1snr) > 3") == ("cc_flags", "w1snr")
    assert cuts.cut_columns("") == ()
    with pytest.raises(cuts.CutsError, match="unknown column\\(s\\): w9flux"):
        cuts.cut_columns("w9flux > 3")
    with pytest.raises(cuts.CutsError, match="not a valid pandas query"):
        cuts.cut_columns("cc_flags ==")


def test_plot_selection_and_files(tmp_path):
    lc = build(matches(), TARGETS, "")
    b = binning.bin_visits(lc)
    s = summary.summarize(lc, TARGETS, b)
    assert plots.select_targets(s, 1) == ["a"]
    assert plots.select_targets(s, "all") == ["a", "b"]
    written = plots.plot_targets(lc, s, tmp_path, "all", b)
    assert [p.name for p in written] == ["a.png", "b.png"]
    assert all(p.stat().st_size > 5000 for p in written)
    assert plots.safe_filename("V* AM Her/1") != plots.safe_filename("V* AM Her_1")
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
    kept = cuts.apply_cuts(m, "timewise")
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
    m = m.drop_duplicates(["target_id", "cntr"])  # a detection has one mjd ...
    m = pd.concat([m, m.sample(300, random_state=1)])  # ... and may come twice
    targets = pd.DataFrame({"target_id": ["t1", "t10", "t2", "x", "é", "none"]})
    got = build(m, targets, "cntr != 5")
    want = (
        m[m["target_id"].isin(targets["target_id"]) & (m["cntr"] != 5)]
        .drop_duplicates(["target_id", "cntr"])
        .sort_values(["target_id", "mjd", "cntr"], kind="stable", ignore_index=True)
    )
    pd.testing.assert_frame_equal(got, want[list(got.columns)])
