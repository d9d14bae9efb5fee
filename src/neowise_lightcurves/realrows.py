"""Real IRSA rows in the catalogue's layouts: timewise's downloads as a NEOWISE catalogue root.

The peer tool timewise (github.com/JannisNe/timewise, MIT licence) keeps real IRSA TAP
downloads in its test data (``tests/data/photometry``): the NEOWISE single-exposure rows
(``raw_photometry_neowiser_p1bs_psd__chunk*.csv``) and the AllWISE Multiepoch Photometry rows
(``raw_photometry_allwise_p3as_mep__chunk*.csv``) within 6 arcsec of 63 objects, after
timewise's quality cuts (applied by IRSA), and timewise's own binned visits of them
(``timewise_data_product_tap_unmasked.json``). ``tests/data/timewise`` holds a few of those
objects (:data:`SUBSET`; its README names the source).

This module reads those files (:func:`read_neowise`, :func:`read_mep`, :func:`read_targets`,
:func:`read_data_product`), lays the rows out as the workflow reads a catalogue
(:func:`neowise_frame`, :func:`mep_frame`, :func:`write_layouts`: IRSA's Parquet layout with the
catalogue's file schema, and the AllWISE MEP local copy's layout with
:data:`~neowise_lightcurves.allwise.MEP_COLUMNS`), gives the workflow's configuration for them
(:func:`workflow_config`) and pairs the workflow's binned visits with timewise's
(:func:`pair_visits`). The tests (``tests/test_realrows.py``) and
``benchmarks/timewise_compare.py`` use it.

The CSV files carry only the columns timewise asked for (positions, time, W1/W2 magnitudes and
fluxes, ``allwise_cntr`` or ``cntr_mf``); every other column the match path reads gets a clean,
plausible value (the rows passed timewise's cuts at IRSA): ``cc_flags`` ``"0000"``,
``moon_masked`` ``"00"`` (the MEP's ``"0000"``), ``qual_frame`` 10, ``qi_fact`` 1, ``saa_sep``
90, ``nb`` 1, ``na`` 0, ``sso_flg`` 0, ``w?rchi2`` 1, ``ph_qual`` from the SNR, ``w?snr`` =
flux / uncertainty (null for a negative flux, as the catalogue's). Row counters, scan and frame
ids are made up (unique, in the catalogue's formats); the other nullable columns are null.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: File name patterns of timewise's downloads and the name of its binned data product.
NEOWISE_CSV = "raw_photometry_neowiser_p1bs_psd__chunk*.csv"
MEP_CSV = "raw_photometry_allwise_p3as_mep__chunk*.csv"
DATA_PRODUCT = "timewise_data_product_tap_unmasked.json"
#: The subset of timewise's test data kept in this repository.
SUBSET = Path(__file__).resolve().parents[2] / "tests" / "data" / "timewise"
#: The cone radius of timewise's queries (arcsec): 0.0016667 deg.
RADIUS_ARCSEC = 6.0
#: The NEOWISE survey years the rows are laid out in (by MJD, ``motion.YEAR_MJD``).
YEARS = tuple(range(1, 12))
#: Catalogue column <- timewise's CSV column (NEOWISE: ``w1mpro`` ...; MEP: the same with
#: ``_ep``).
CSV_COLUMNS = {
    "w1mpro": "W1_mag",
    "w1sigmpro": "W1_mag_error",
    "w2mpro": "W2_mag",
    "w2sigmpro": "W2_mag_error",
    "w1flux": "W1_flux",
    "w1sigflux": "W1_flux_error",
    "w2flux": "W2_flux",
    "w2sigflux": "W2_flux_error",
}
#: First MEP row counter ``cntr`` (the MEP's own per-row id; the CSVs lack it).
MEP_ROW_CNTR_BASE = 7 * 10**12
#: WISE's orbit (d) and the MJD its orbits are counted from (launch, 2009 December 14): only
#: for the made-up scan and frame ids.
ORBIT_DAYS = 94.3 / 1440.0
FIRST_ORBIT_MJD = 55179.0
#: Timewise's visits that our binned visits are paired with: the nearest in mean MJD, at most
#: this far (d).
PAIR_DAYS = 1.0


def _read_csvs(folder: str | Path, pattern: str, cntr_column: str) -> pd.DataFrame:
    files = sorted(Path(folder).glob(pattern))
    if not files:
        raise FileNotFoundError(f"no {pattern} in {folder}")
    pieces = []
    for i, path in enumerate(files):
        frame = pd.read_csv(path, index_col=0, dtype={cntr_column: "Int64", "orig_id": "int64"})
        pieces.append(frame.assign(chunk=i, row=frame.index.to_numpy()))
    return pd.concat(pieces, ignore_index=True)


def read_neowise(folder: str | Path) -> pd.DataFrame:
    """Timewise's NEOWISE rows (:data:`NEOWISE_CSV`), every chunk, in file order.

    Parameters
    ----------
    folder : str or pathlib.Path
        Timewise's ``tests/data/photometry`` or a folder with the same files.

    Returns
    -------
    pandas.DataFrame
        The CSV columns (``ra, dec, mjd, allwise_cntr, W1_mag, ..., W2_flux_error, orig_id``;
        ``allwise_cntr`` as nullable ``Int64``), and ``chunk`` (the file's number in name
        order) and ``row`` (the row's index in its file).
    """
    return _read_csvs(folder, NEOWISE_CSV, "allwise_cntr")


def read_mep(folder: str | Path) -> pd.DataFrame:
    """Timewise's AllWISE MEP rows (:data:`MEP_CSV`), as :func:`read_neowise` (``cntr_mf``
    instead of ``allwise_cntr``)."""
    return _read_csvs(folder, MEP_CSV, "cntr_mf")


def _data_product(folder: str | Path) -> dict:
    path = Path(folder)
    path = path / DATA_PRODUCT if path.is_dir() else path
    return json.loads(path.read_text())


def read_targets(folder: str | Path) -> pd.DataFrame:
    """The objects of timewise's data product (:data:`DATA_PRODUCT`): one row each.

    Parameters
    ----------
    folder : str or pathlib.Path
        The folder holding the data product, or the file itself.

    Returns
    -------
    pandas.DataFrame
        ``target_id`` (the object's ``id``, e.g. ``"AT2019dsg"``), ``ra``, ``dec`` (deg: the
        positions timewise's queries were centred on) and ``orig_id`` (the data product's key,
        the CSVs' ``orig_id``), sorted by ``orig_id``.
    """
    product = _data_product(folder)
    rows = [
        {"target_id": v["id"], "ra": v["ra"], "dec": v["dec"], "orig_id": int(k)}
        for k, v in product.items()
    ]
    return pd.DataFrame(rows).sort_values("orig_id", ignore_index=True)


def read_data_product(folder: str | Path) -> pd.DataFrame:
    """Timewise's binned visits (:data:`DATA_PRODUCT`, its ``timewise_lightcurve`` of each
    object) as one table.

    Parameters
    ----------
    folder : str or pathlib.Path
        The folder holding the data product, or the file itself.

    Returns
    -------
    pandas.DataFrame
        One row per object and visit, sorted by ``orig_id`` and ``mean_mjd``: ``target_id``,
        ``orig_id``, ``visit`` (the data product's key), ``mean_mjd`` (d), and for ``b`` in
        ``w1``, ``w2``: ``{b}_flux`` and ``{b}_flux_rms`` (DN: ``W1_mean_flux``,
        ``W1_flux_rms``), ``{b}_flux_mjy`` and ``{b}_flux_rms_mjy`` (mJy:
        ``W1_mean_flux_density``, ``W1_flux_density_rms``), ``{b}_upper_limit``
        (``W1_flux_density_ul``), ``{b}_n`` (``W1_flux_density_Npoints``), ``{b}_mag``
        (``W1_mean_mag``, Vega) and ``{b}_mag_upper_limit`` (``W1_mag_ul``).
    """
    names = {"mean_mjd": "mean_mjd"}
    for b, band in (("w1", "W1"), ("w2", "W2")):
        names.update(
            {
                f"{band}_mean_flux": f"{b}_flux",
                f"{band}_flux_rms": f"{b}_flux_rms",
                f"{band}_mean_flux_density": f"{b}_flux_mjy",
                f"{band}_flux_density_rms": f"{b}_flux_rms_mjy",
                f"{band}_flux_density_ul": f"{b}_upper_limit",
                f"{band}_flux_density_Npoints": f"{b}_n",
                f"{band}_mean_mag": f"{b}_mag",
                f"{band}_mag_ul": f"{b}_mag_upper_limit",
            }
        )
    pieces = []
    for key, obj in _data_product(folder).items():
        lc = pd.DataFrame(obj["timewise_lightcurve"])
        visit = lc.index.astype(np.int64)
        frame = pd.DataFrame({new: lc[old].to_numpy() for old, new in names.items()})
        frame.insert(0, "visit", visit.to_numpy())
        frame.insert(0, "orig_id", int(key))
        frame.insert(0, "target_id", obj["id"])
        pieces.append(frame)
    out = pd.concat(pieces, ignore_index=True)
    for b in ("w1", "w2"):
        out[f"{b}_n"] = out[f"{b}_n"].astype(np.int64)
        for flag in (f"{b}_upper_limit", f"{b}_mag_upper_limit"):
            out[flag] = out[flag].astype(bool)
    return out.sort_values(["orig_id", "mean_mjd"], ignore_index=True)


def survey_year(mjd) -> np.ndarray:
    """The NEOWISE survey year (1-11) of each time, by the package's year MJD ranges
    (:data:`neowise_lightcurves.motion.YEAR_MJD`, without their margins).

    Raises
    ------
    ValueError
        If a time lies outside years 1-11.
    """
    from .motion import YEAR_MJD

    starts = np.array([YEAR_MJD[f"year{i}"][0] for i in YEARS] + [YEAR_MJD["year11"][1]])
    mjd = np.asarray(mjd, dtype=float)
    year = np.searchsorted(starts, mjd, side="right")
    outside = (year < 1) | (year > len(YEARS))
    if outside.any():
        raise ValueError(f"MJD {mjd[outside][0]!r} lies outside NEOWISE years 1-11")
    return year.astype(np.int64)


def _scan_frame(mjd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Made-up scan ids (``"NNNNNa"``: the half-orbit since :data:`FIRST_ORBIT_MJD`) and frame
    numbers (1-200 along the half-orbit) of exposures at times ``mjd``."""
    half = (np.asarray(mjd, dtype=float) - FIRST_ORBIT_MJD) / (ORBIT_DAYS / 2)
    number = np.floor(half).astype(np.int64)
    scan = pd.Series(number // 2 % 100_000).map("{:05d}".format) + np.where(
        number % 2 == 0, "a", "b"
    )
    frame = 1 + np.minimum(np.floor((half - number) * 200), 199).astype(np.int64)
    return scan.to_numpy(object), frame


def _ph_qual(snr: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """A band's ``ph_qual`` letter: A (SNR >= 10), B (>= 3), C (>= 2), U (below), X (no flux)."""
    letter = np.select([snr >= 10, snr >= 3, snr >= 2], ["A", "B", "C"], "U")
    return np.where(measured, letter, "X")


def _snr(flux: np.ndarray, sigflux: np.ndarray) -> np.ndarray:
    """``flux / sigflux``, null (NaN) for a negative or missing flux, as the catalogue's."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(flux >= 0, flux / sigflux, np.nan)


def neowise_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Timewise's NEOWISE rows as catalogue rows: every column of the catalogue's file schema.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`read_neowise`'s rows.

    Returns
    -------
    pandas.DataFrame
        The 143 columns of :func:`neowise_lightcurves.columns.file_schema` (the rows' own
        position, time, photometry and ``allwise_cntr``; the rest as the module says), then
        ``healpix_k5`` (order-5 NESTED pixel), ``year`` (1-11, :func:`survey_year`),
        ``orig_id``, ``chunk`` and ``row`` (where the row came from), sorted by ``year``,
        ``healpix_k5`` and ``mjd``. ``cntr`` is ``year`` x 10^11 plus the row's number in its
        year.
    """
    import astropy.units as u
    from astropy.coordinates import BarycentricTrueEcliptic, SkyCoord

    from . import columns as cols
    from . import sky

    ra, dec = rows["ra"].to_numpy(float), rows["dec"].to_numpy(float)
    n = len(rows)
    d: dict[str, object] = {"ra": ra, "dec": dec, "mjd": rows["mjd"].to_numpy(float)}
    for name, csv in CSV_COLUMNS.items():
        d[name] = rows[csv].to_numpy(float)
    d["allwise_cntr"] = rows["allwise_cntr"].astype("Int64")
    for b in ("w1", "w2"):
        d[f"{b}snr"] = _snr(d[f"{b}flux"], d[f"{b}sigflux"])
        d[f"{b}rchi2"] = np.where(np.isnan(d[f"{b}flux"]), np.nan, 1.0)
        d[f"{b}cc_map"] = np.zeros(n, np.int64)
    d["ph_qual"] = np.char.add(
        _ph_qual(d["w1snr"], ~np.isnan(d["w1flux"])), _ph_qual(d["w2snr"], ~np.isnan(d["w2flux"]))
    )
    c = SkyCoord(ra * u.deg, dec * u.deg)
    gal, ecl = c.galactic, c.transform_to(BarycentricTrueEcliptic())
    d["glon"], d["glat"] = gal.l.deg, gal.b.deg
    d["elon"], d["elat"] = ecl.lon.deg, ecl.lat.deg
    xyz = sky.unit_vectors(ra, dec)
    d["x"], d["y"], d["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    d["spt_ind"] = sky.partition_of(ra, dec, order=13)
    d["htm20"] = sky.partition_of(ra, dec, order=20)
    clean = {
        "cc_flags": "0000",
        "moon_masked": "00",
        "satnum": "00",
        "qual_frame": 10,
        "qi_fact": 1.0,
        "saa_sep": 90.0,
        "nb": 1,
        "na": 0,
        "sso_flg": 0,
        "det_bit": 3,
        "n_2mass": 0,
        "sigra": 0.2,
        "sigdec": 0.2,
        "sigradec": 0.0,
        "w1x": 508.0,
        "w1y": 508.0,
        "w2x": 508.0,
        "w2y": 508.0,
    }
    for name, value in clean.items():
        d[name] = np.full(n, value)
    d["n_allwise"] = rows["allwise_cntr"].notna().to_numpy().astype(np.int64)

    frame = pd.DataFrame(d)
    frame["healpix_k5"] = np.asarray(sky.partition_of(ra, dec), dtype=np.int64)
    frame["year"] = survey_year(frame["mjd"])
    for name in ("orig_id", "chunk", "row"):
        frame[name] = rows[name].to_numpy()
    frame = frame.sort_values(["year", "healpix_k5", "mjd"], kind="stable", ignore_index=True)
    number = frame.groupby("year").cumcount().to_numpy()
    frame["cntr"] = frame["year"].to_numpy() * 10**11 + number
    scan, frame_num = _scan_frame(frame["mjd"].to_numpy())
    frame["scan_id"], frame["frame_num"] = scan, frame_num
    frame["src"] = frame.groupby(["scan_id", "frame_num"]).cumcount().to_numpy() + 1
    frame["source_id"] = (
        frame["scan_id"]
        + frame["frame_num"].map("{:03d}".format)
        + "-"
        + frame["src"].map("{:06d}".format)
    )
    missing = [f for f in cols.file_schema() if f.name not in frame.columns]
    lacking = [f.name for f in missing if not f.nullable]
    if lacking:
        raise AssertionError(f"no value for the catalogue's column(s) {', '.join(lacking)}")
    # the nullable columns the rows cannot give: null
    nulls = pd.DataFrame(
        {f.name: pd.Series(pd.NA, index=frame.index, dtype=object) for f in missing}
    )
    frame = pd.concat([frame, nulls], axis=1)
    return frame[list(cols.column_names()) + ["healpix_k5", "year", "orig_id", "chunk", "row"]]


def _atlas_name(cntr_mf: pd.Series) -> np.ndarray:
    """AllWISE source names from their ``cntr``: ``2569127201351021166`` ->
    ``"2569p272_ac51-021166"`` (Atlas Tile RA and Dec in tenths of a degree, the sign digit
    1 for ``p``, the source's number)."""
    s = cntr_mf.astype(str)
    sign = np.where(s.str[4] == "1", "p", "m")
    return (s.str[:4] + sign + s.str[5:8] + "_ac51-" + s.str[-6:]).to_numpy(object)


def mep_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Timewise's AllWISE MEP rows as rows of the MEP's local-copy layout.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`read_mep`'s rows.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`neowise_lightcurves.allwise.MEP_COLUMNS` (``cntr_mf``, position,
        time and photometry from the rows; ``source_id_mf`` from ``cntr_mf``; ``cntr``
        :data:`MEP_ROW_CNTR_BASE` plus the row's number; a made-up ``frame_id``; the rest as the
        module says), then ``healpix_k5``, ``orig_id``, ``chunk`` and ``row``, sorted by
        ``healpix_k5``, ``cntr_mf`` and ``mjd``.
    """
    from . import allwise, sky

    ra, dec = rows["ra"].to_numpy(float), rows["dec"].to_numpy(float)
    n = len(rows)
    d: dict[str, object] = {
        "cntr_mf": rows["cntr_mf"].astype(np.int64).to_numpy(),
        "source_id_mf": _atlas_name(rows["cntr_mf"]),
        "ra": ra,
        "dec": dec,
        "mjd": rows["mjd"].to_numpy(float),
    }
    for name, csv in CSV_COLUMNS.items():
        d[f"{name}_ep"] = rows[csv].to_numpy(float)
    for b in ("w1", "w2"):
        d[f"{b}rchi2_ep"] = np.where(np.isnan(d[f"{b}flux_ep"]), np.nan, 1.0)
    scan, frame_num = _scan_frame(d["mjd"])
    d["frame_id"] = scan + pd.Series(frame_num).map("{:03d}".format).to_numpy(object)
    clean = {
        "nb": 1,
        "na": 0,
        "cc_flags": "0000",
        "qi_fact": 1.0,
        "saa_sep": 90.0,
        "moon_masked": "0000",
    }
    for name, value in clean.items():
        d[name] = np.full(n, value)
    frame = pd.DataFrame(d)
    frame["healpix_k5"] = np.asarray(sky.partition_of(ra, dec), dtype=np.int64)
    for name in ("orig_id", "chunk", "row"):
        frame[name] = rows[name].to_numpy()
    frame = frame.sort_values(["healpix_k5", "cntr_mf", "mjd"], kind="stable", ignore_index=True)
    frame["cntr"] = MEP_ROW_CNTR_BASE + np.arange(n, dtype=np.int64)
    return frame[list(allwise.MEP_COLUMNS) + ["healpix_k5", "orig_id", "chunk", "row"]]


def _write(frame: pd.DataFrame, dest: Path, schema, row_group_size: int) -> Path:
    """``frame``'s ``schema`` columns and ``healpix_k5`` into the dataset folder ``dest`` with
    the demo's writer (one hive folder per partition); a frame without rows as a dataset with
    its ``_common_metadata`` and ``_metadata`` and no partition."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .atomic import atomic_directory
    from .demo import write_dataset

    if len(frame) == 0:
        with atomic_directory(dest) as tmp:
            pq.write_metadata(schema, tmp / "_common_metadata")
            pq.write_metadata(schema, tmp / "_metadata")
        return dest
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    table = table.append_column("healpix_k5", pa.array(frame["healpix_k5"], pa.int64()))
    return write_dataset(table, dest, schema, row_group_size)


def write_neowise(
    frame: pd.DataFrame, root: str | Path, years=YEARS, row_group_size: int = 2000
) -> list[Path]:
    """Write :func:`neowise_frame`'s rows under ``root`` in IRSA's layout, one dataset per year
    (:func:`neowise_lightcurves.catalog.year_dataset`; a year without rows: an empty dataset).

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`neowise_frame`'s rows.
    root : str or pathlib.Path
        The catalogue root (``catalog.root``).
    years : iterable of int
        The years written (default 1-11).
    row_group_size : int
        Rows per Parquet row group.

    Returns
    -------
    list of pathlib.Path
        The years' dataset folders.
    """
    from . import columns as cols
    from .catalog import year_dataset, year_name

    out = []
    for year in years:
        dest = Path(root) / year_dataset(year_name(int(year)))
        rows = frame[frame["year"] == int(year)]
        out.append(_write(rows, dest, cols.file_schema(), row_group_size))
    return out


def write_mep(frame: pd.DataFrame, root: str | Path, row_group_size: int = 2000) -> Path:
    """Write :func:`mep_frame`'s rows as the AllWISE MEP's local copy under ``root``
    (``{root}/{catalog.ALLWISE_DATASET}``, schema
    :func:`neowise_lightcurves.allwise.mep_schema`); returns the dataset folder."""
    from .allwise import mep_schema
    from .catalog import ALLWISE_DATASET

    return _write(frame, Path(root) / ALLWISE_DATASET, mep_schema(), row_group_size)


@dataclass(frozen=True)
class Written:
    """What :func:`write_layouts` wrote.

    Attributes
    ----------
    root : pathlib.Path
        The catalogue root: the NEOWISE years and the AllWISE MEP's local copy.
    targets_path : pathlib.Path
        The target list (CSV: ``target_id, ra, dec, orig_id``).
    targets, neowise, mep : pandas.DataFrame
        :func:`read_targets`'s, :func:`neowise_frame`'s and :func:`mep_frame`'s rows, as
        written.
    """

    root: Path
    targets_path: Path
    targets: pd.DataFrame
    neowise: pd.DataFrame
    mep: pd.DataFrame


def write_layouts(folder: str | Path, root: str | Path, row_group_size: int = 2000) -> Written:
    """Write timewise's rows in ``folder`` (:data:`SUBSET` or timewise's
    ``tests/data/photometry``) under ``root``: the NEOWISE years 1-11
    (:func:`write_neowise`), the AllWISE MEP's local copy (:func:`write_mep`) and the target
    list ``{root}/targets.csv`` (:func:`read_targets`).

    Raises
    ------
    ValueError
        If a row's ``orig_id`` is none of the data product's objects.
    """
    root = Path(root)
    targets = read_targets(folder)
    neowise, mep = neowise_frame(read_neowise(folder)), mep_frame(read_mep(folder))
    for name, frame in (("NEOWISE", neowise), ("MEP", mep)):
        unknown = set(frame["orig_id"]) - set(targets["orig_id"])
        if unknown:
            raise ValueError(f"{name} rows of objects not in the data product: {sorted(unknown)}")
    write_neowise(neowise, root, row_group_size=row_group_size)
    write_mep(mep, root, row_group_size=row_group_size)
    targets_path = root / "targets.csv"
    targets.to_csv(targets_path, index=False)
    return Written(root, targets_path, targets, neowise, mep)


def workflow_config(written: Written, **extra) -> dict:
    """The workflow's configuration for the rows of :func:`write_layouts`: its target list,
    its root (years 1-11), timewise's radius (:data:`RADIUS_ARCSEC`), no cuts (timewise's were
    applied by IRSA), and the AllWISE MEP from the local copy. ``extra`` keys replace
    top-level sections (``plots``, ``match`` ...) after a merge of one level."""
    config = {
        "targets": {"source": "file", "path": str(written.targets_path), "id_column": "target_id"},
        "catalog": {
            "root": str(written.root),
            "years": list(YEARS),
            "allwise_mep": {"enabled": True, "source": str(written.root)},
        },
        "match": {"radius_arcsec": RADIUS_ARCSEC, "cuts": "none"},
    }
    for key, value in extra.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    return config


def pair_visits(
    ours: pd.DataFrame, theirs: pd.DataFrame, max_days: float = PAIR_DAYS
) -> pd.DataFrame:
    """Each of our binned visits with timewise's visit of the same target nearest in time.

    Parameters
    ----------
    ours : pandas.DataFrame
        The workflow's ``binned.parquet`` (``target_id``, ``mjd``, ...).
    theirs : pandas.DataFrame
        :func:`read_data_product`'s visits (``target_id``, ``mean_mjd``, ...).
    max_days : float
        Visits further apart in mean MJD are not paired (d).

    Returns
    -------
    pandas.DataFrame
        One row per visit of either side: our columns suffixed ``_ours``, theirs ``_theirs``
        (``target_id`` once), with ``paired`` (both sides present; each of their visits is
        paired at most once, with the nearest of ours) and ``dmjd`` (ours - theirs, d).
    """
    a = ours.reset_index(drop=True).add_suffix("_ours")
    b = theirs.reset_index(drop=True).add_suffix("_theirs")
    a["_a"], b["_b"] = np.arange(len(a)), np.arange(len(b))
    cand = a.merge(b, left_on="target_id_ours", right_on="target_id_theirs")
    cand["dmjd"] = cand["mjd_ours"] - cand["mean_mjd_theirs"]
    cand = cand[cand["dmjd"].abs() <= max_days]
    cand = cand.reindex(cand["dmjd"].abs().sort_values(kind="stable").index)
    cand = cand.drop_duplicates("_a").drop_duplicates("_b")
    pairs = cand[["_a", "_b", "dmjd"]]
    out = a.merge(pairs, on="_a", how="outer").merge(b, on="_b", how="outer")
    out["paired"] = out["_a"].notna() & out["_b"].notna()
    out.insert(0, "target_id", out["target_id_ours"].fillna(out["target_id_theirs"]))
    out = out.drop(columns=["_a", "_b", "target_id_ours", "target_id_theirs"])
    when = out["mjd_ours"].fillna(out["mean_mjd_theirs"])
    return (
        out.assign(_t=when).sort_values(["target_id", "_t"], ignore_index=True).drop(columns="_t")
    )
