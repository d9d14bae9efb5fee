"""A deterministic synthetic sky in the exact layout of IRSA's NEOWISE Parquet catalogue.

The demo sky has a few dozen order-5 partitions in seven regions chosen to break naive code
(both celestial poles, the RA 0/360 seam, a partition corner and edge, the north ecliptic pole
where visits have many exposures, an ordinary field), about three dozen targets (variables: an
outburst, a periodic star, a fading star; a close pair; two ids at one position; a target with
no detections; a faint one with W2 upper limits) and field stars. Each year is written as IRSA
writes it::

    {root}/year{N}/neowiser-healpix_k5-year{N}.parquet/
        _metadata, _common_metadata (units and descriptions in the field metadata)
        healpix_k0={k0}/healpix_k5={k5}/part0.snappy.parquet

with all 143 columns and their types; one partition also gets a ``part1`` file. Fluxes (DN) are
on the real catalogue's zero points, which change with time
(:data:`neowise_lightcurves.photometry.PERIOD_ZERO_POINTS`: year 1, Dec 2013 - Dec 2014, is on
other zero points than the later years), magnitudes on one Vega scale, as IRSA's. Every number
comes from ``numpy.random.default_rng`` seeded by (seed, year), so a year is the same whenever
and wherever it is made.

The demo also has its copy of the AllWISE Multiepoch Photometry (:mod:`neowise_lightcurves.allwise`,
:func:`mep_table`, :func:`write_allwise`) in the same layout, with the MEP's columns
(:func:`neowise_lightcurves.allwise.mep_schema`)::

    {root}/allwise/allwise_p3as_mep-healpix_k5.parquet/
        _metadata, _common_metadata
        healpix_k0={k0}/healpix_k5={k5}/part0.snappy.parquet

It holds the same sources seen from 2010 January 7 to 2011 February 1 (MJD 55203-55594): visits
of each region at ``55203 + phase + k * HALF_YEAR`` (k = 0, 1, 2, those before the end), the
photometry of the same light-curve models on the MEP's zero points (20.5 and 19.5 mag, as the
real table's), every row at its source's
position (the mover's at the MEP's mid time) with its ``cntr_mf``/``source_id_mf``. Its numbers
come from a stream of their own, seeded by (seed, 0, 2010), so that no NEOWISE year changes. It
holds the duplicates the real MEP has:

- the sources of :data:`MEP_REJECT_DUPLICATES` (STAR-B01, CORNER) have an AllWISE Reject-Table
  duplicate: another ``cntr_mf`` and ``source_id_mf`` 0.3 arcsec away, every exposure of the
  source measured again (fresh noise, the same ``mjd``);
- the source of :data:`MEP_REPEATED_ROW` (STAR-A03) has one exposure's row listed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import hpgeom
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import columns as cols
from . import sky
from .atomic import atomic_directory, atomic_path
from .catalog import ALLWISE_DATASET, year_dataset, year_name
from .photometry import period_zero_points

#: MJD at which each survey year starts (IRSA's scan ranges; ``addendum`` after year 11).
YEAR_START = {f"year{i}": 56639.0 + 365.25 * (i - 1) for i in range(1, 12)}
YEAR_START["addendum"] = 60291.0 + 190.0

ORBIT_DAYS = 94.3 / 1440.0  # WISE orbit: one exposure of a position per orbit during a visit
HALF_YEAR = 182.6
#: Start of OUTBURST's outburst (MJD): three days before its region's second visit of year 2.
OUTBURST_MJD = YEAR_START["year2"] + 17.0 + 23.0 * 4 + HALF_YEAR - 3.0

#: Regions of the demo sky: name, centre (deg), radius of the field-star cap (deg),
#: exposures per visit.
REGIONS = (
    ("north-pole", 0.0, 90.0, 1.2, 14),
    ("south-pole", 0.0, -90.0, 1.2, 14),
    ("ra-seam", 0.0, 12.0, 1.2, 12),
    ("corner", None, None, 1.2, 12),  # centred on a partition corner, found at run time
    ("ecliptic-pole", 270.0, 66.56, 1.2, 36),
    ("field-a", 150.1, 2.2, 1.2, 12),
    ("field-b", 45.0, -30.0, 1.2, 12),
)


@dataclass(frozen=True)
class DemoSky:
    """The demo's sources (true positions, magnitudes, variability) and targets."""

    sources: pd.DataFrame
    targets: pd.DataFrame


def _corner_position() -> tuple[tuple[float, float], tuple[float, float]]:
    """A corner and an edge midpoint of the order-5 partition holding (150.1, 2.2)."""
    nside = hpgeom.order_to_nside(5)
    pix = int(hpgeom.angle_to_pixel(nside, 150.1, 2.2))
    ra, dec = hpgeom.boundaries(nside, pix, step=2)
    # boundaries(step=2) walks corner, midpoint, corner, midpoint, ...
    return (float(ra[0]), float(dec[0])), (float(ra[1]), float(dec[1]))


def _offset(ra, dec, pa_deg, sep_arcsec):
    """Positions ``sep_arcsec`` from (ra, dec) at position angle ``pa_deg`` (astropy)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    c = SkyCoord(np.atleast_1d(ra) * u.deg, np.atleast_1d(dec) * u.deg)
    moved = c.directional_offset_by(
        np.atleast_1d(pa_deg) * u.deg, np.atleast_1d(sep_arcsec) * u.arcsec
    )
    return moved.ra.wrap_at(360 * u.deg).deg, moved.dec.deg


#: The demo's fast mover: proper motion (mas/yr, RA's times cos Dec) and its epoch (Julian year).
MOVER_PM = (5300.0, 5300.0)
MOVER_EPOCH = 2016.0


def _mover_edge_point() -> tuple[float, float]:
    """A point on the south-west edge of the order-5 partition holding (150.1, 2.2)."""
    nside = hpgeom.order_to_nside(5)
    pix = int(hpgeom.angle_to_pixel(nside, 150.1, 2.2))
    ra, dec = hpgeom.boundaries(nside, pix, step=8)
    return float(ra[13]), float(dec[13])


def _cap(rng, n, ra0, dec0, radius_deg):
    """``n`` positions uniform on the sphere within ``radius_deg`` of (ra0, dec0)."""
    cos_r = np.cos(np.radians(radius_deg))
    sep = np.degrees(np.arccos(1 - rng.random(n) * (1 - cos_r))) * 3600.0
    return _offset(np.full(n, ra0), np.full(n, dec0), rng.random(n) * 360.0, sep)


def build_sky(seed: int = 1, field_sources: int = 150) -> DemoSky:
    """The demo sky: sources (true positions and light-curve models) and the target list.

    Parameters
    ----------
    seed : int
        Seed of every random draw.
    field_sources : int
        Field stars per region (the tests use a few; the demo a few hundred).
    """
    rng = np.random.default_rng([seed, 0])
    corner, edge = _corner_position()
    centres = {name: (ra, dec) for name, ra, dec, _, _ in REGIONS}
    centres["corner"] = corner
    src, tgt = [], []

    def source(ra, dec, w1, color=0.3, kind="constant"):
        src.append(dict(ra=ra, dec=dec, w1=w1, w2=w1 - color, kind=kind))

    def target(tid, ra, dec, kind, note, w1=None, color=0.3, offset=0.15):
        if w1 is not None:  # a real source near the target position
            (sra,), (sdec,) = _offset(ra, dec, rng.random() * 360, offset)
            source(sra, sdec, w1, color, kind)
        tgt.append(dict(target_id=tid, ra=ra % 360.0, dec=dec, kind=kind, note=note))

    target("NCP-1", 123.0, 89.99992, "constant", "0.3 arcsec from the north pole", 11.5)
    target("NCP-2", 300.0, 89.9960, "constant", "14 arcsec from the north pole", 13.0)
    target("SCP-1", 10.0, -89.99995, "periodic", "0.2 arcsec from the south pole", 12.0)
    target("SEAM-E", 359.99990, 12.0, "constant", "west of RA 0, 0.7 arcsec from SEAM-W", 12.5)
    target("SEAM-W", 0.00010, 12.0, "constant", "east of RA 0", 12.8)
    target("SEAM-X", 359.9990, 12.01, "constant", "crosses RA 0 at 10 arcsec", 13.5)
    target("CORNER", *corner, "constant", "on a k5 partition corner", 12.2)
    target("EDGE", *edge, "fader", "on a k5 partition edge", 12.9)
    target("PAIR-A", 150.1, 2.2, "constant", "0.8 arcsec from PAIR-B", 13.0, offset=0.0)
    target(
        "PAIR-B",
        150.1 + 0.8 / 3600 / np.cos(np.radians(2.2)),
        2.2,
        "constant",
        "0.8 arcsec from PAIR-A",
        13.4,
        offset=0.0,
    )
    target("DUP-1", 150.3, 2.0, "constant", "same position as DUP-2", 12.0)
    target("DUP-2", 150.3, 2.0, "constant", "same position as DUP-1")
    target("EMPTY", 150.0, 2.5, "none", "no source here: no detections")
    target("OUTBURST", 270.1, 66.5, "outburst", "an outburst in year 2", 13.0, 0.6)
    target("PERIODIC", 269.8, 66.7, "periodic", "P = 0.2871 d, 0.4 mag", 12.4)
    target("FADER", 270.4, 66.4, "fader", "fades 0.3 mag a year", 11.8)
    target("FAINT", 45.05, -30.05, "constant", "faint: W2 upper limits", 16.6, -0.3)
    for i in range(10):
        (ra,), (dec,) = _cap(rng, 1, *centres["field-b"], 0.8)
        target(f"STAR-B{i:02d}", ra, dec, "constant", "field-b star", 10 + rng.random() * 5)
    for i in range(6):
        (ra,), (dec,) = _cap(rng, 1, *centres["field-a"], 0.8)
        kind = "periodic" if i == 0 else "constant"
        target(f"STAR-A{i:02d}", ra, dec, kind, "field-a star", 10 + rng.random() * 5)
    # neighbours a few arcsec from some targets: a larger radius picks them up
    for t in tgt[::3]:
        (ra,), (dec,) = _offset(t["ra"], t["dec"], rng.random() * 360, 3 + 5 * rng.random())
        source(ra, dec, 14 + 2 * rng.random())
    for name, *_ in REGIONS:
        ras, decs = _cap(rng, field_sources, *centres[name], 1.2)
        for ra, dec in zip(ras, decs, strict=True):
            source(ra, dec, 9 + 8 * rng.random() ** 0.5, 0.1 + 0.3 * rng.random())
    # a fast mover, added after every random draw above (the other sources stay as they were):
    # at J2016.0 5" inside the partition of PAIR-A's south-west edge, moving 7.5"/yr north-east,
    # so that it crosses the edge during year 2; matched at 1" only with proper motion
    tgt = [dict(t, pmra=0.0, pmdec=0.0, pm_epoch=MOVER_EPOCH) for t in tgt]
    src = [dict(s, pmra=0.0, pmdec=0.0) for s in src]
    (mra,), (mdec,) = _offset(*_mover_edge_point(), 45.0, 5.0)
    source(mra, mdec, 12.1)
    src[-1].update(pmra=MOVER_PM[0], pmdec=MOVER_PM[1])
    tgt.append(
        dict(
            target_id="MOVER",
            ra=mra,
            dec=mdec,
            kind="constant",
            note="moves 7.5 arcsec/yr across a k5 partition edge",
            pmra=MOVER_PM[0],
            pmdec=MOVER_PM[1],
            pm_epoch=MOVER_EPOCH,
        )
    )
    sources = pd.DataFrame(src)
    sources["ra"] = sources["ra"] % 360.0
    # region of a source: the nearest region centre (neighbours inherit their target's)
    cen = np.array([centres[n] for n, *_ in REGIONS])
    near = np.argmax(
        sky.unit_vectors(sources["ra"], sources["dec"]) @ sky.unit_vectors(cen[:, 0], cen[:, 1]).T,
        axis=1,
    )
    sources["region"] = [REGIONS[i][0] for i in near]
    sources["n_exposures"] = [REGIONS[i][4] for i in near]
    sources["phase"] = [17.0 + 23.0 * i for i in near]
    sources["index"] = np.arange(len(sources))
    return DemoSky(sources=sources, targets=pd.DataFrame(tgt))


def _magnitudes(sources: pd.DataFrame, t: np.ndarray, band: str, outburst_mjd: float) -> np.ndarray:
    m0 = sources[band].to_numpy()
    kind = sources["kind"].to_numpy()
    m = m0.copy()
    periodic = kind == "periodic"
    m[periodic] += 0.4 * np.sin(2 * np.pi * t[periodic] / 0.2871)
    fader = kind == "fader"
    m[fader] += 0.3 * (t[fader] - YEAR_START["year1"]) / 365.25
    burst = (kind == "outburst") & (t > outburst_mjd)
    m[burst] -= 2.5 * np.log10(1 + 8 * np.exp(-(t[burst] - outburst_mjd) / 12.0))
    return m


def detections(sky_: DemoSky, year: str, seed: int = 1) -> pd.DataFrame:
    """All detections of one survey year, every catalogue column filled, one row per detection."""
    return pd.concat(_detection_parts(sky_, year, seed), ignore_index=True)


def _moving(sources: pd.DataFrame) -> np.ndarray:
    if "pmra" not in sources.columns:
        return np.zeros(len(sources), bool)
    return ((sources["pmra"] != 0) | (sources["pmdec"] != 0)).to_numpy()


def _detection_parts(sky_: DemoSky, year: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The detections of the sources that do not move, and of those that do (drawn from a
    random stream of their own, so that adding a mover changes no other source's detections)."""
    year = year_name(year)
    year_no = 12 if year == "addendum" else int(year[4:])
    moving = _moving(sky_.sources)
    still = _observe(sky_.sources, ~moving, year, year_no, np.random.default_rng([seed, year_no]))
    movers = _observe(
        sky_.sources, moving, year, year_no, np.random.default_rng([seed, year_no, 1]), True
    )
    return still, movers


def _observe(
    sources: pd.DataFrame, which: np.ndarray, year: str, year_no: int, rng, moving: bool = False
) -> pd.DataFrame:
    """Detections of the sources ``which`` in one year (the moving ones at their positions at
    each detection's time, with scan ids of their own)."""
    src = sources[which]
    visits = (0,) if year == "addendum" else (0, 1)
    parts = []
    for visit in visits:
        for n_exp in np.unique(src["n_exposures"]):
            sel = src[src["n_exposures"] == n_exp]
            for e in range(n_exp):
                seen = sel[rng.random(len(sel)) < 0.94]
                t = YEAR_START[year] + seen["phase"].to_numpy() + visit * HALF_YEAR + e * ORBIT_DAYS
                parts.append(
                    pd.DataFrame(
                        {
                            "index": seen["index"].to_numpy(),
                            "mjd": t + rng.normal(0, 0.002, len(seen)),
                            "visit": visit,
                            "exposure": e,
                        }
                    )
                )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _empty_dtypes().items()})
    det = pd.concat(parts, ignore_index=True)
    n = len(det)
    s = sources.iloc[det["index"].to_numpy()].reset_index(drop=True)
    true_ra, true_dec = s["ra"].to_numpy(), s["dec"].to_numpy()
    if moving:
        from . import motion

        dt = (
            det["mjd"].to_numpy() - motion.jyear_to_mjd(MOVER_EPOCH)
        ) / motion.DAYS_PER_JULIAN_YEAR
        true_ra, true_dec = motion.to_radec(
            motion.propagate(true_ra, true_dec, s["pmra"], s["pmdec"], dt)
        )
    ra, dec = _offset(true_ra, true_dec, rng.random(n) * 360, np.abs(rng.normal(0, 0.2, n)))
    out = {"ra": ra % 360.0, "dec": dec, "mjd": det["mjd"].to_numpy()}
    for band in ("w1", "w2"):
        zp = period_zero_points(out["mjd"], band)  # the real catalogue's steps, 2013-14 too
        out.update(_photometry(s, out["mjd"], band, zp, rng))
    out["cc_flags"] = np.where(
        rng.random(n) < 0.9, "0000", rng.choice(["d000", "0h00", "00p0", "D000", "H0h0"], n)
    )
    out["moon_masked"] = np.where(rng.random(n) < 0.95, "00", rng.choice(["10", "01", "11"], n))
    out["qi_fact"] = rng.choice([1.0, 0.5, 0.0], n, p=[0.88, 0.1, 0.02])
    out["saa_sep"] = np.abs(rng.normal(60, 40, n))
    out["nb"] = np.where(rng.random(n) < 0.95, 1, 2)
    out["na"] = np.where(rng.random(n) < 0.97, 0, 1)
    out["qual_frame"] = rng.choice([10, 5, 0], n, p=[0.9, 0.08, 0.02])
    frame = pd.DataFrame(out)
    frame["index"] = det["index"].to_numpy()
    frame["visit"] = det["visit"].to_numpy()
    frame["exposure"] = det["exposure"].to_numpy()
    frame["region"] = s["region"].to_numpy()
    return _fill_columns(frame, year_no, rng, len(REGIONS) if moving else 0)


def _photometry(s: pd.DataFrame, mjd: np.ndarray, band: str, zp: np.ndarray, rng) -> dict:
    """One band's measurements of the sources ``s`` (one row per measurement) at times ``mjd``.

    Parameters
    ----------
    s : pandas.DataFrame
        The measured source of every row (:func:`build_sky`'s columns).
    mjd : numpy.ndarray
        The rows' times.
    band : str
        ``"w1"`` or ``"w2"``.
    zp : numpy.ndarray
        Each row's zero point (mag) of its fluxes (DN): ``m = zp - 2.5 log10(flux)``; the
        model's magnitudes are the same whatever it is, the DN follow it.
    rng : numpy.random.Generator
        Source of the noise, nulls and fit chi-squares.

    Returns
    -------
    dict
        ``{band}flux``, ``{band}sigflux``, ``{band}snr``, ``{band}mpro``, ``{band}sigmpro`` (NaN
        in 2% of rows; below SNR 2 ``mpro`` is the 2-sigma upper limit and ``sigmpro`` NaN),
        ``{band}rchi2`` and ``{band}_true_mag`` (the model's magnitude).
    """
    n = len(s)
    true_mag = _magnitudes(s, mjd, band, OUTBURST_MJD)
    true = 10 ** (-0.4 * (true_mag - zp))
    sig = np.sqrt(7.0**2 + 0.5 * true + (0.015 * true) ** 2)
    flux = true + rng.normal(0, 1, n) * sig
    snr = flux / sig
    with np.errstate(invalid="ignore", divide="ignore"):
        mpro = np.where(
            snr >= 2, zp - 2.5 * np.log10(flux), zp - 2.5 * np.log10(np.abs(flux) + 2 * sig)
        )
        sigmpro = np.where(snr >= 2, 1.0857 / snr, np.nan)
    null = rng.random(n) < 0.02
    out = {
        f"{band}{name}": np.where(null, np.nan, v)
        for name, v in (
            ("flux", flux),
            ("sigflux", sig),
            ("snr", snr),
            ("mpro", mpro),
            ("sigmpro", sigmpro),
        )
    }
    out[f"{band}rchi2"] = np.abs(rng.normal(1, 0.3, n))
    out[f"{band}_true_mag"] = true_mag
    return out


def _empty_dtypes() -> dict:
    """The catalogue columns' pandas dtypes, for a year without detections of some sources."""
    return {f.name: f.type.to_pandas_dtype() for f in cols.file_schema()}


def _ph_qual(snr: np.ndarray) -> np.ndarray:
    return np.select([snr >= 10, snr >= 3, snr >= 2], ["A", "B", "C"], "U")


def _fill_columns(f: pd.DataFrame, year_no: int, rng, scan_offset: int = 0) -> pd.DataFrame:
    """Every one of the 143 catalogue columns, derived where it has meaning, plausible elsewhere
    (``scan_offset``: added to the region's number in scan ids)."""
    import astropy.units as u
    from astropy.coordinates import BarycentricTrueEcliptic, SkyCoord

    n = len(f)
    c = SkyCoord(f["ra"].to_numpy() * u.deg, f["dec"].to_numpy() * u.deg)
    gal = c.galactic
    ecl = c.transform_to(BarycentricTrueEcliptic())
    xyz = sky.unit_vectors(f["ra"], f["dec"])
    region_no = pd.factorize(f["region"], sort=True)[0] + scan_offset
    scan_no = (year_no * 2 + f["visit"].to_numpy()) * 100 + region_no
    scan_id = pd.Series(scan_no).map(lambda v: f"{v:05d}") + np.where(f["visit"] == 0, "a", "b")
    frame_num = f["exposure"].to_numpy() + 1
    src = f.groupby([scan_id.to_numpy(), frame_num]).cumcount().to_numpy() + 1
    d = {}
    d["source_id"] = (
        scan_id
        + pd.Series(frame_num).map(lambda v: f"{v:03d}")
        + "-"
        + pd.Series(src).map(lambda v: f"{v:06d}")
    )
    d["frame_num"] = frame_num
    d["scan_id"] = scan_id
    d["src"] = src
    d["ra"], d["dec"] = f["ra"], f["dec"]
    d["glon"], d["glat"] = gal.l.deg, gal.b.deg
    d["elon"], d["elat"] = ecl.lon.deg, ecl.lat.deg
    d["x"], d["y"], d["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    d["spt_ind"] = sky.partition_of(f["ra"].to_numpy(), f["dec"].to_numpy(), order=13)
    d["htm20"] = sky.partition_of(f["ra"].to_numpy(), f["dec"].to_numpy(), order=20)
    for band in ("w1", "w2"):
        snr = f[f"{band}snr"].to_numpy()
        d[f"{band}mag"] = f[f"{band}mpro"] + rng.normal(0, 0.02, n)
        for k in range(1, 9):
            d[f"{band}mag_{k}"] = f[f"{band}mpro"] + rng.normal(0.1 * k, 0.02, n)
            d[f"{band}sigm_{k}"] = f[f"{band}sigmpro"] * (1 + 0.1 * k)
            d[f"{band}flg_{k}"] = np.zeros(n, np.int64)
        d[f"{band}sigm"] = f[f"{band}sigmpro"]
        d[f"{band}mcor"] = np.full(n, 0.12)
        d[f"{band}flg"] = np.zeros(n, np.int64)
        d[f"{band}sat"] = np.zeros(n)
        d[f"{band}frtr"] = np.full(n, "0.0")
        d[f"{band}cc_map"] = np.where(f["cc_flags"].str[0 if band == "w1" else 1] == "0", 0, 1)
        d[f"{band}cc_map_str"] = np.where(d[f"{band}cc_map"] == 0, "", f["cc_flags"].str[0:1])
        d[f"{band}x"] = rng.uniform(1, 1016, n)
        d[f"{band}y"] = rng.uniform(1, 1016, n)
        d[f"{band}sky"] = rng.normal(30 if band == "w1" else 60, 2, n)
        d[f"{band}sigsk"] = np.abs(rng.normal(1, 0.1, n))
        d[f"{band}conf"] = np.abs(rng.normal(2, 0.5, n))
        d[f"{band}fitr"] = np.full(n, 7.5)
        d[f"_{band}snr"] = snr
    d["ph_qual"] = pd.Series(_ph_qual(np.nan_to_num(d["_w1snr"], nan=0.0))) + pd.Series(
        _ph_qual(np.nan_to_num(d["_w2snr"], nan=0.0))
    )
    d["sigra"] = np.full(n, 0.2)
    d["sigdec"] = np.full(n, 0.2)
    d["sigradec"] = rng.normal(0, 0.01, n)
    d["rchi2"] = (f["w1rchi2"] + f["w2rchi2"]) / 2
    d["satnum"] = np.full(n, "00")
    d["xscprox"] = np.full(n, np.nan)
    d["det_bit"] = np.full(n, 3, np.int64)
    d["sso_flg"] = np.zeros(n, np.int64)
    idx = f["index"].to_numpy()
    d["tmass_key"] = 1_000_000 + idx
    d["r_2mass"] = np.full(n, 0.3)
    d["pa_2mass"] = (idx * 37.0) % 360
    d["n_2mass"] = np.ones(n, np.int64)
    d["allwise_cntr"] = 2_000_000 + idx
    d["r_allwise"] = np.full(n, 0.2)
    d["pa_allwise"] = (idx * 53.0) % 360
    d["n_allwise"] = np.ones(n, np.int64)
    for b, off in (("j", 1.2), ("h", 0.5), ("k", 0.2)):
        d[f"{b}_m_2mass"] = f["w1_true_mag"] + off
        d[f"{b}_msig_2mass"] = np.full(n, 0.03)
    for b in ("w1", "w2", "w3", "w4"):
        base = f["w1_true_mag"] if b == "w1" else f["w2_true_mag"]
        d[f"{b}mpro_allwise"] = base
        d[f"{b}sigmpro_allwise"] = np.full(n, 0.02)
    for name in f.columns:
        if name not in d and name in cols.column_names():
            d[name] = f[name]
    d["cntr"] = np.zeros(n, np.int64)  # set when the year is laid out
    # the catalogue's precision: positions and times to 1e-7 (0.4 mas, 9 ms), the rest to 1e-3
    # (this also lets Parquet's dictionary encoding work as on the real files)
    fine = {"ra", "dec", "mjd", "glon", "glat", "elon", "elat", "x", "y", "z"}
    out = {}
    for c in cols.catalog_columns():
        if c.name in d:
            v = np.asarray(d[c.name])
            out[c.name] = np.round(v, 7 if c.name in fine else 3) if c.type == "double" else v
    return pd.DataFrame(out)[list(cols.column_names())]


def year_table(sky_: DemoSky, year: str, seed: int = 1) -> pa.Table:
    """One year of the demo catalogue as an Arrow table with the catalogue's file schema,
    ordered by partition then ``spt_ind`` (a spatial index) and numbered by ``cntr``."""
    year_no = 12 if year_name(year) == "addendum" else int(year_name(year)[4:])
    pieces = []
    # movers' rows numbered apart (from 9e10): the other rows keep their numbers
    for frame, first in zip(_detection_parts(sky_, year, seed), (0, 9 * 10**10), strict=True):
        k5 = sky.partition_of(frame["ra"].to_numpy(), frame["dec"].to_numpy())
        frame = frame.assign(_k5=np.asarray(k5, dtype=np.int64))
        frame = frame.sort_values(["_k5", "spt_ind", "mjd"], kind="stable", ignore_index=True)
        frame["cntr"] = year_no * 10**11 + first + np.arange(len(frame), dtype=np.int64)
        pieces.append(frame)
    frame = pd.concat(pieces, ignore_index=True)
    frame = frame.sort_values(["_k5", "spt_ind", "mjd"], kind="stable", ignore_index=True)
    schema = cols.file_schema()
    k5 = frame.pop("_k5").to_numpy()
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    return table.append_column("healpix_k5", pa.array(k5, pa.int64()))


def write_year(
    root: str | Path, year: str, seed: int = 1, field_sources: int = 150, row_group_size: int = 2000
) -> Path:
    """Write one year of the demo catalogue under ``root`` in IRSA's layout; returns its folder.

    The folder is built under a temporary name and renamed into place when complete.
    """
    year = year_name(year)
    sky_ = build_sky(seed, field_sources)
    table = year_table(sky_, year, seed)
    return write_dataset(table, Path(root) / year_dataset(year), cols.file_schema(), row_group_size)


def write_dataset(table: pa.Table, dest: Path, schema: pa.Schema, row_group_size: int) -> Path:
    """Write ``table`` to the dataset folder ``dest`` in IRSA's layout; returns ``dest``.

    Parameters
    ----------
    table : pyarrow.Table
        The rows with the columns of ``schema`` and a ``healpix_k5`` column (their order-5
        partition, which names the hive folders and is not written into the files).
    dest : pathlib.Path
        The dataset folder, built under a temporary name and renamed into place when complete.
    schema : pyarrow.Schema
        The files' schema, also written to ``_common_metadata`` and ``_metadata``.
    row_group_size : int
        Rows per Parquet row group.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Notes
    -----
    Every partition gets ``healpix_k0={k0}/healpix_k5={k5}/part0.snappy.parquet``; the largest
    also a ``part1`` (half its rows each). ``_metadata`` lists every file's row groups with paths
    relative to ``dest``.
    """
    k5_all = table["healpix_k5"].to_numpy()
    data = table.drop_columns(["healpix_k5"])
    with atomic_directory(dest) as tmp:
        collector = []
        parts = np.unique(k5_all)
        split = parts[np.argmax(np.bincount(np.searchsorted(parts, k5_all)))]  # largest: two files
        for k5 in parts:
            rows = data.filter(pa.array(k5_all == k5))
            leaf = tmp / f"healpix_k0={sky.k0_of(int(k5))}" / f"healpix_k5={int(k5)}"
            leaf.mkdir(parents=True)
            pieces = (
                [rows]
                if k5 != split
                else [rows.slice(0, rows.num_rows // 2), rows.slice(rows.num_rows // 2)]
            )
            for i, piece in enumerate(pieces):
                name = f"part{i}.snappy.parquet"
                md = []
                pq.write_table(
                    piece,
                    leaf / name,
                    row_group_size=row_group_size,
                    compression="snappy",
                    metadata_collector=md,
                )
                md[0].set_file_path(f"{leaf.relative_to(tmp)}/{name}")
                collector.extend(md)
        pq.write_metadata(schema, tmp / "_common_metadata")
        pq.write_metadata(schema, tmp / "_metadata", metadata_collector=collector)
    return dest


#: Constant demo targets whose source has an AllWISE Reject-Table duplicate in the MEP copy: a
#: second ``cntr_mf``/``source_id_mf`` 0.3 arcsec away, measured on the same exposures.
MEP_REJECT_DUPLICATES = ("STAR-B01", "CORNER")
#: Demo target whose source has one MEP exposure row repeated exactly.
MEP_REPEATED_ROW = "STAR-A03"
#: ``cntr_mf`` of a demo source in the MEP copy: this base plus the source's ``index`` (apart
#: from the NEOWISE rows' ``cntr``, below 1.3e12); its Reject-Table duplicate's: the next base.
MEP_CNTR_BASE = 5 * 10**12
MEP_REJECT_CNTR_BASE = 6 * 10**12
#: The MEP rows' own counter ``cntr`` starts here.
MEP_ROW_CNTR_BASE = 7 * 10**12
#: Separation (arcsec) of a Reject-Table duplicate from its Catalog source.
MEP_REJECT_SEPARATION = 0.3


def _atlas_source_ids(ra: np.ndarray, dec: np.ndarray, number: np.ndarray) -> np.ndarray:
    """AllWISE-style source names: the Atlas Tile (``RRRR[pm]DDD_ac51``, RA and |Dec| in tenths
    of a degree) and the source's number in it (``-NNNNNN``)."""
    tile_ra = pd.Series(np.floor(np.asarray(ra) * 10).astype(np.int64) % 3600).map("{:04d}".format)
    tile_dec = pd.Series(np.floor(np.abs(dec) * 10).astype(np.int64)).map("{:03d}".format)
    sign = pd.Series(np.where(np.asarray(dec) >= 0, "p", "m"))
    num = pd.Series(np.asarray(number)).map("{:06d}".format)
    return (tile_ra + sign + tile_dec + "_ac51-" + num).to_numpy()


def _target_sources(sky_: DemoSky, target_ids) -> np.ndarray:
    """Row positions in ``sky_.sources`` of the sources nearest the targets ``target_ids``."""
    t = sky_.targets.set_index("target_id").loc[list(target_ids)]
    near = (
        sky.unit_vectors(t["ra"], t["dec"])
        @ sky.unit_vectors(sky_.sources["ra"], sky_.sources["dec"]).T
    )
    return np.argmax(near, axis=1)


def mep_table(sky_: DemoSky, seed: int = 1) -> pa.Table:
    """The demo's copy of the AllWISE Multiepoch Photometry: one row per exposure of a source.

    Parameters
    ----------
    sky_ : DemoSky
        The demo sky (:func:`build_sky`): the same sources as the NEOWISE years.
    seed : int
        Seed of the MEP's random stream, ``(seed, 0, 2010)``: one of its own, so that no NEOWISE
        year changes.

    Returns
    -------
    pyarrow.Table
        The columns of :func:`neowise_lightcurves.allwise.mep_schema` and ``healpix_k5`` (the
        row's order-5 partition), ordered by partition, ``cntr_mf`` and ``mjd``.

    Notes
    -----
    Each source is seen in visits starting at ``MJD_RANGE[0] + phase + k * HALF_YEAR``
    (k = 0, 1, 2, those that end before ``MJD_RANGE[1]``) of ``n_exposures`` exposures
    :data:`ORBIT_DAYS` apart, each seen with probability 0.94. The photometry is
    :func:`_photometry`'s on the MEP's zero points
    (:func:`neowise_lightcurves.photometry.period_zero_points`). Every row of a source holds
    the source's position (a moving source's at AllWISE's epoch), its ``cntr_mf``
    (:data:`MEP_CNTR_BASE` + ``index``), ``source_id_mf``, ``nb``, ``na`` and ``cc_flags`` (clean
    for the targets' sources). The
    sources of :data:`MEP_REJECT_DUPLICATES` have a Reject-Table duplicate
    (:data:`MEP_REJECT_CNTR_BASE` + ``index``, :data:`MEP_REJECT_SEPARATION` arcsec away,
    every exposure measured again); one row of :data:`MEP_REPEATED_ROW`'s source is repeated.
    """
    from . import allwise, motion

    rng = np.random.default_rng([seed, 0, 2010])
    src = sky_.sources.reset_index(drop=True)
    lo, hi = allwise.MJD_RANGE
    # visits (source, k) that end before the MEP does, then their exposures
    n_exp = src["n_exposures"].to_numpy()
    start = lo + src["phase"].to_numpy()[:, None] + np.arange(3)[None, :] * HALF_YEAR
    keep = start + (n_exp[:, None] - 1) * ORBIT_DAYS < hi - 0.1
    which, visit = np.nonzero(keep)
    reps = n_exp[which]
    row_src = np.repeat(which, reps)
    exposure = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    mjd = np.repeat(start[keep], reps) + exposure * ORBIT_DAYS
    # the exposure's frame: scan (the region's visit) and frame number, as "00412a007"
    region = pd.factorize(src["region"], sort=True)[0][row_src]
    scan = (np.repeat(visit, reps) + 1) * 100 + region
    frame_id = pd.Series(scan).map("{:05d}a".format) + pd.Series(exposure + 1).map("{:03d}".format)
    seen = rng.random(len(mjd)) < 0.94
    row_src, mjd = row_src[seen], mjd[seen] + rng.normal(0, 0.002, seen.sum())
    frame_id = frame_id.to_numpy(object)[seen]
    # the sources' positions; a moving one's at AllWISE's epoch
    ra, dec = src["ra"].to_numpy(), src["dec"].to_numpy()
    if _moving(src).any():
        epoch = motion.jyear_to_mjd(MOVER_EPOCH)
        ra, dec = motion.positions_at(ra, dec, src["pmra"], src["pmdec"], epoch, allwise.EPOCH_MJD)
    index = src["index"].to_numpy()
    # the deep sources: the Catalog's, then the Reject-Table duplicates
    dup = _target_sources(sky_, MEP_REJECT_DUPLICATES)
    dra, ddec = _offset(ra[dup], dec[dup], np.full(len(dup), 60.0), MEP_REJECT_SEPARATION)
    ent_src = np.concatenate([np.arange(len(src)), dup])
    ent_ra = np.round(np.concatenate([ra, dra]), 7) % 360.0  # rounded first: never 360.0
    ent_dec = np.round(np.concatenate([dec, ddec]), 7)
    ent_cntr = np.concatenate([MEP_CNTR_BASE + index, MEP_REJECT_CNTR_BASE + index[dup]])
    ent_id = _atlas_source_ids(
        np.concatenate([ra, dra + 1.5]), ent_dec, np.concatenate([index, 500_000 + index[dup]])
    )
    n_ent = len(ent_src)
    ent_cc = np.where(
        rng.random(n_ent) < 0.9, "0000", rng.choice(["d000", "0h00", "00p0", "D000"], n_ent)
    )
    # the targets' own sources clean (a contaminated deep source loses every MEP row to the
    # default cut): the demo's light curves all reach back to 2010, the field stars vary
    seen_targets = sky_.targets.loc[sky_.targets["kind"] != "none", "target_id"]
    ent_cc[_target_sources(sky_, seen_targets)] = "0000"
    ent_nb = np.where(rng.random(n_ent) < 0.95, 1, 2)
    ent_na = np.where(rng.random(n_ent) < 0.97, 0, 1)
    # rows: every exposure of a source, and again for its duplicate (the same exposures)
    row_ent = np.concatenate(
        [row_src] + [np.full((row_src == s).sum(), len(src) + j) for j, s in enumerate(dup)]
    )
    row_mjd = np.concatenate([mjd] + [mjd[row_src == s] for s in dup])
    row_frame = np.concatenate([frame_id] + [frame_id[row_src == s] for s in dup])
    n = len(row_ent)
    s = src.iloc[ent_src[row_ent]].reset_index(drop=True)
    out = {
        "cntr_mf": ent_cntr[row_ent],
        "source_id_mf": ent_id[row_ent],
        "ra": ent_ra[row_ent],
        "dec": ent_dec[row_ent],
        "cntr": MEP_ROW_CNTR_BASE + np.arange(len(row_ent), dtype=np.int64),
        "frame_id": row_frame,
        "mjd": np.round(row_mjd, 7),
    }
    for band in ("w1", "w2"):
        phot = _photometry(s, out["mjd"], band, period_zero_points(out["mjd"], band), rng)
        for name in ("flux", "sigflux", "mpro", "sigmpro", "rchi2"):
            out[f"{band}{name}_ep"] = phot[f"{band}{name}"]
    out["nb"] = ent_nb[row_ent]
    out["na"] = ent_na[row_ent]
    out["cc_flags"] = ent_cc[row_ent]
    out["qi_fact"] = rng.choice([1.0, 0.5, 0.0], n, p=[0.88, 0.1, 0.02])
    out["saa_sep"] = np.round(np.abs(rng.normal(60, 40, n)), 3)
    # the MEP's flag has a character per band, W1-W4 (NEOWISE's: W1, W2)
    out["moon_masked"] = np.where(
        rng.random(n) < 0.95, "0000", rng.choice(["1000", "0100", "1100"], n)
    )
    frame = pd.DataFrame(out)
    # one exposure of MEP_REPEATED_ROW's source listed twice
    (rep,) = _target_sources(sky_, [MEP_REPEATED_ROW])
    first = np.flatnonzero(row_ent == rep)[len(np.flatnonzero(row_ent == rep)) // 2]
    frame = pd.concat([frame, frame.iloc[[first]]], ignore_index=True)
    frame["healpix_k5"] = np.asarray(
        sky.partition_of(frame["ra"].to_numpy(), frame["dec"].to_numpy()), dtype=np.int64
    )
    frame = frame.sort_values(["healpix_k5", "cntr_mf", "mjd"], kind="stable", ignore_index=True)
    schema = allwise.mep_schema().append(pa.field("healpix_k5", pa.int64()))
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    return table.replace_schema_metadata()


def write_allwise(
    root: str | Path, seed: int = 1, field_sources: int = 150, row_group_size: int = 2000
) -> Path:
    """Write the demo's copy of the AllWISE MEP (:func:`mep_table`) under ``root``.

    Parameters
    ----------
    root : str or pathlib.Path
        The demo catalogue's root: the copy goes to ``{root}/{catalog.ALLWISE_DATASET}``.
    seed : int
        Seed of the sky and of the MEP's random stream.
    field_sources : int
        Field stars per region (as for :func:`write_year`).
    row_group_size : int
        Rows per Parquet row group.

    Returns
    -------
    pathlib.Path
        The dataset folder, in the layout of :func:`write_year`, built under a temporary name
        and renamed into place when complete.
    """
    from . import allwise

    table = mep_table(build_sky(seed, field_sources), seed)
    dest = Path(root) / ALLWISE_DATASET
    return write_dataset(table, dest, allwise.mep_schema(), row_group_size)


def write_targets(path: str | Path, seed: int = 1, field_sources: int = 150) -> None:
    """Write the demo target list (ECSV: ``target_id, ra, dec, kind, note, pmra, pmdec,
    pm_epoch``) atomically."""
    from astropy.table import Table

    targets = build_sky(seed, field_sources).targets
    table = Table.from_pandas(targets)
    table["ra"].unit = table["dec"].unit = "deg"
    table["pmra"].unit = table["pmdec"].unit = "mas / yr"
    table["pm_epoch"].unit = "yr"
    with atomic_path(path) as tmp:
        table.write(tmp, format="ascii.ecsv", overwrite=True)
