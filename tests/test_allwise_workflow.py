"""The AllWISE MEP in the workflow, through a real TAP server on loopback (benchmarks/servers.py's
UwsTapServer: UWS jobs, VOTable uploads, brute-force answers over the demo's MEP table): every
exposure once, the same matches as the local copy's, the constant sources' levels joined up,
the cache reused and rerun exactly as a NEOWISE year's, a service cutting answers at a row limit
answered in smaller uploads, and a failing service losing nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import brute_force_pairs
from servers import UwsTapServer
from workflow_helpers import REPO, TINY, deep_update, read_sorted, snakemake

from neowise_lightcurves import allwise_match, catalog, demo, manifest

pytestmark = pytest.mark.workflow
#: The MEP's table name at IRSA's TAP service (config.yaml's default).
TABLE = yaml.safe_load((REPO / "config.yaml").read_text())["catalog"]["allwise_mep"]["table"]

SEED, FIELD = TINY["demo"]["seed"], TINY["demo"]["field_sources"]


def _targets_csv(path, extra=None):
    """The demo's targets, proper motions included, as a CSV file."""
    t = demo.build_sky(SEED, FIELD).targets
    t = t[["target_id", "ra", "dec", "kind", "pmra", "pmdec", "pm_epoch"]]
    if extra is not None:
        t = pd.concat([t, pd.DataFrame(extra)], ignore_index=True)
    t.to_csv(path, index=False)
    return t


def _mep_rows():
    """The demo's MEP table as the TAP server holds it (astropy), and as pandas."""
    from astropy.table import Table

    frame = demo.mep_table(demo.build_sky(SEED, FIELD), SEED).to_pandas()
    frame = frame.drop(columns=["healpix_k5"])
    return Table.from_pandas(frame), frame


def _at_allwise_epoch(targets):
    """Targets' positions at AllWISE's epoch (MJD 55400), moving ones by astropy."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.time import Time

    ra, dec = targets["ra"].to_numpy(float).copy(), targets["dec"].to_numpy(float).copy()
    moving = ((targets["pmra"] != 0) | (targets["pmdec"] != 0)).to_numpy()
    t = targets[moving]
    c = SkyCoord(
        ra=t["ra"].to_numpy() * u.deg,
        dec=t["dec"].to_numpy() * u.deg,
        pm_ra_cosdec=t["pmra"].to_numpy() * u.mas / u.yr,
        pm_dec=t["pmdec"].to_numpy() * u.mas / u.yr,
        distance=1 * u.kpc,
        radial_velocity=0 * u.km / u.s,
        obstime=Time(t["pm_epoch"].to_numpy(), format="jyear"),
    ).apply_space_motion(new_obstime=Time(55400.0, format="mjd"))
    ra[moving], dec[moving] = c.ra.deg, c.dec.deg
    return ra, dec


def _config(csv, url, **tap):
    settings = dict(
        enabled=True,
        source="tap",
        tap_url=url,
        attempts=6,  # jobs share the faults: one may meet all five
        backoff_s=0.01,
        job_timeout_s=60.0,
        max_upload_rows=4,  # the demo shards' targets go in several jobs
    )
    settings.update(tap)
    return deep_update(
        TINY,
        {
            "targets": {"source": "file", "path": str(csv)},
            "catalog": {"years": [1], "allwise_mep": settings},
            "match": {"cuts": ""},
        },
    )


def _shards(workdir):
    return {s.shard: s for s in manifest.read_shards(workdir / "results/manifest/shards.tsv")}


def test_tap_source_exact_incremental_and_fault_tolerant(tmp_path):
    csv = tmp_path / "targets.csv"
    targets = _targets_csv(csv)
    table, mep = _mep_rows()
    # the service cuts every answer at the most rows one target gets (and flags OVERFLOW, as
    # DaCHS does), fewer than some uploads of 4 targets get
    ra, dec = _at_allwise_epoch(targets)
    r = 1.0 * (1 + allwise_match.QUERY_SLACK[0]) + allwise_match.QUERY_SLACK[1]
    cap = max(np.bincount([t for t, _ in brute_force_pairs(ra, dec, mep["ra"], mep["dec"], r)]))
    server = UwsTapServer(
        {TABLE: table},
        faults=["submit-503", "error", "lost", "result-503", "drop"],
        hard_limit=cap,
    )
    try:
        cfg = _config(csv, server.url)
        # first run: one MEP job per shard, beside the NEOWISE year's; the faults are retried,
        # the answers cut are asked again for fewer targets
        ran, _ = snakemake(tmp_path, cfg)
        shards = _shards(tmp_path)
        assert ran["match_allwise"] == len(shards) == ran["match"]
        assert server.faults == [] and server.jobs == {}
        assert max(server.uploads) <= 4 and server.overflows > 0
        logs = "".join(p.read_text() for p in (tmp_path / "results/logs").rglob("*.log"))
        assert "WARNING" in logs and "the answer was cut (the service flagged OVERFLOW" in logs
        assert "trying again in 0.01 s" in logs  # the retries, in the jobs' logs

        lc = read_sorted(tmp_path / "results", "lightcurves")
        got = lc[lc["year"] == "allwise"]
        # complete and each exposure once: every (target, exposure) that brute force finds
        # within the radius of the target (a moving one at AllWISE's epoch), and no other
        ra, dec = _at_allwise_epoch(targets)
        pairs = brute_force_pairs(ra, dec, mep["ra"], mep["dec"], 1.0)
        want = {(targets["target_id"][t], mep["mjd"][d]) for t, d in pairs}
        assert set(zip(got["target_id"], got["mjd"], strict=True)) == want
        assert len(got) == len(want) > 300
        assert "MOVER" in set(got["target_id"])
        for tid in demo.MEP_REJECT_DUPLICATES + (demo.MEP_REPEATED_ROW,):
            assert not got[got["target_id"] == tid].duplicated("mjd").any()
        assert (got["cntr"] < 0).all()  # the MEP's own exposures, counted apart from NEOWISE's
        assert "qual_frame" not in lc.columns  # no cut or extra column asks for it

        # the same matches as the local copy's (the demo's, same path as NEOWISE's files)
        root = tmp_path / "copy"
        demo.write_allwise(root, SEED, FIELD)
        rows = pd.read_parquet(tmp_path / "results/manifest/partitions.parquet")
        cat = catalog.open_catalog(str(root))
        for name, shard in shards.items():
            path = f"results/cache/r1/allwise/{name}-{shard.allwise_digest}.parquet"
            cached = pq.read_table(tmp_path / path)
            mine = rows[rows["shard"] == name]
            local = allwise_match.match_local(cat, mine, 1.0, tuple(cached.schema.names[3:]), 2)
            assert local.equals(cached.replace_schema_metadata()), name

        # fetch() in this process, the same service: the same 14-year light curves
        import neowise_lightcurves as nl

        some = targets[targets["target_id"].isin(["MOVER", "CORNER", "STAR-B01", "NCP-1"])]
        mep_settings = cfg["catalog"]["allwise_mep"]
        fetched = nl.fetch(
            some,
            years=[1],
            root=str(tmp_path / "results/demo/catalog"),
            cuts="",
            allwise_mep=mep_settings,
        ).to_pandas()
        mine = lc[lc["target_id"].isin(some["target_id"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            fetched[mine.columns].reset_index(drop=True), mine, check_dtype=False
        )
        assert set(fetched["year"]) == {"year1", "allwise"}

        # photometry joined up: a constant source's binned W1/W2 flux density in 2010-2011
        # equals its NEOWISE level within the errors (its DN do not: the MEP's are on its own
        # zero points, NEOWISE's on theirs, which step between 2014 and later years)
        binned = read_sorted(tmp_path / "results", "binned")
        kinds = targets.set_index("target_id")["kind"]
        checked = 0
        for tid, b in binned.groupby("target_id"):
            if kinds.get(tid) != "constant":
                continue
            early = b["mjd"] < 56000
            for band in ("w1", "w2"):
                ok = ~b[f"{band}_upper_limit"]
                a, n = b[early & ok], b[~early & ok]
                if len(a) < 2 or len(n) < 2:
                    continue
                diff = a[f"{band}_flux_mjy"].mean() - n[f"{band}_flux_mjy"].mean()
                err = np.hypot(
                    np.sqrt((a[f"{band}_flux_err_mjy"] ** 2).sum()) / len(a),
                    np.sqrt((n[f"{band}_flux_err_mjy"] ** 2).sum()) / len(n),
                )
                assert abs(diff) < 5 * err, (tid, band, diff, err)
                checked += 1
        assert checked >= 15

        # nothing changed: nothing runs, nothing is asked of the service
        submitted = server.submitted
        ran, _ = snakemake(tmp_path, cfg)
        assert sum(ran.values()) == 0 and server.submitted == submitted

        # one target added: only its shard's MEP job (and its NEOWISE one)
        old = {n: s.digest for n, s in _shards(tmp_path).items()}
        _targets_csv(
            csv,
            {
                "target_id": ["NEW"],
                "ra": [45.3],
                "dec": [-30.2],
                "kind": ["new"],
                "pmra": [0.0],
                "pmdec": [0.0],
                "pm_epoch": [2016.0],
            },
        )
        ran, _ = snakemake(tmp_path, cfg)
        new = {n: s.digest for n, s in _shards(tmp_path).items()}
        changed = {s for s in new if old.get(s) != new[s]}
        assert len(changed) == 1 and ran["match_allwise"] == 1 == ran["match"]

        # another radius, and the service fails every attempt: the run fails naming the shard
        # and the service's message, the NEOWISE caches are kept, no MEP cache (or part of one)
        # is written
        failing = deep_update(cfg, {"match": {"radius_arcsec": 2.0}})
        server.faults = ["error"] * 100
        ran, proc = snakemake(tmp_path, failing, "--keep-going", check=False)
        assert proc.returncode != 0
        assert ran["match"] == len(_shards(tmp_path))
        assert not list((tmp_path / "results/cache/r2/allwise").glob("*"))
        logs = "".join(p.read_text() for p in (tmp_path / "results/logs").rglob("*.log"))
        assert "AllWISE MEP for shard sky" in logs and "ORA-01013" in logs
        # the service answers again: only the MEP jobs and what follows them
        server.faults = []
        ran, _ = snakemake(tmp_path, failing)
        assert ran["match_allwise"] == len(_shards(tmp_path)) and ran["match"] == 0
        # back to the first radius: its caches, MEP's too, are reused (as a NEOWISE year's)
        ran, _ = snakemake(tmp_path, cfg)
        assert ran["match_allwise"] == 0 == ran["match"] and ran["lightcurves"] > 0

        # a service whose limit is below one target's answer: the jobs fail naming the
        # service, the query and the limit, and write no cache file
        server.hard_limit = 5
        capped = deep_update(cfg, {"match": {"radius_arcsec": 3.0}})
        ran, proc = snakemake(tmp_path, capped, "--keep-going", check=False)
        assert proc.returncode != 0 and ran["match"] == len(_shards(tmp_path))
        assert not list((tmp_path / "results/cache/r3/allwise").glob("*"))
        logs = "".join(p.read_text() for p in (tmp_path / "results/logs").rglob("*.log"))
        assert "TapOverflowError: AllWISE MEP for shard sky" in logs
        assert f"TAP service at {server.url} for one of the uploaded targets was cut" in logs
        assert "flagged OVERFLOW at 5 rows" in logs and "max_answer_rows" in logs
    finally:
        server.stop()


def test_cuts_and_columns_the_mep_lacks_are_warned_of(tmp_path):
    cfg = deep_update(
        TINY,
        {
            "catalog": {"allwise_mep": {"enabled": True}},
            "match": {"cuts": "qual_frame > 0", "extra_columns": ["glon"]},
        },
    )
    _, proc = snakemake(tmp_path, cfg, "-n")
    out = proc.stdout + proc.stderr
    assert "match.cuts uses qual_frame, which the AllWISE MEP does not have" in out
    assert "match.extra_columns glon: not in the AllWISE MEP" in out
    kept = deep_update(cfg, {"match": {"cuts": "year == 'allwise' or qual_frame > 0"}})
    _, proc = snakemake(tmp_path, kept, "-n")
    assert "match.cuts uses" not in proc.stdout + proc.stderr
