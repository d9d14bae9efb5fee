"""What one AllWISE MEP job costs at the largest shard, apart from IRSA's service: parsing the
service's VOTable answer (as pyvo does, with astropy), the exact test, the shard's partitions
and the columns mapped (``allwise_match.answer_frame``, ``allwise_match.answer_matches``), in
wall time and peak memory.

The answer is built as the service would send it: ``--targets`` targets (default 20,000, the
default ``match.max_shard_targets``) in one order-2 pixel, ``--sources`` AllWISE sources in and
around each cone, each measured on ``--exposures`` exposures (2010-2011: 12-40 a position away
from the ecliptic poles), one answer per upload of ``--upload-rows`` targets, as the job asks
(``catalog.allwise_mep.max_upload_rows``), written as a VOTable in ``--format`` (``binary2``,
compact; ``tabledata``: XML text, slower).

    python benchmarks/allwise_job.py                       # 20,000 targets x 2 x 30
    python benchmarks/allwise_job.py --upload-rows 5000    # larger answers
    python benchmarks/allwise_job.py --targets 5000 --format tabledata
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd


def shard(n_targets: int, seed: int = 1) -> pd.DataFrame:
    """A shard's (target, partition) rows: targets spread over one order-2 pixel (~215 deg2,
    around RA 45, Dec +20)."""
    from neowise_lightcurves import sky

    rng = np.random.default_rng(seed)
    ra = 40 + 10 * rng.random(n_targets)
    dec = 15 + 10 * rng.random(n_targets)
    return pd.DataFrame(
        {
            "target_id": [f"T{i:06d}" for i in range(n_targets)],
            "ra": ra,
            "dec": dec,
            "k5": sky.partition_of(ra, dec),
        }
    )


def answer(targets: pd.DataFrame, index: np.ndarray, n_sources: int, n_exposures: int, seed):
    """The service's answer for the targets ``index`` (astropy Table): ``n_sources`` sources
    within 1.2" of each, every one measured on ``n_exposures`` exposures."""
    from astropy.table import Table

    from neowise_lightcurves import allwise, allwise_match, columns

    rng = np.random.default_rng(seed)
    ra, dec = targets["ra"].to_numpy()[index], targets["dec"].to_numpy()[index]
    n_src = len(index) * n_sources
    owner = np.repeat(np.arange(len(index)), n_sources)
    sep = 1.2 * np.sqrt(rng.random(n_src)) / 3600
    angle = rng.random(n_src) * 2 * np.pi
    sra = ra[owner] + sep * np.sin(angle) / np.cos(np.radians(dec[owner]))
    sdec = dec[owner] + sep * np.cos(angle)
    n = n_src * n_exposures
    src = np.repeat(np.arange(n_src), n_exposures)
    cols = {
        "target_index": index[owner[src]],
        "cntr": np.arange(n, dtype=np.int64) + 10**15 + int(index[0]) * 10**6,
        "cntr_mf": src.astype(np.int64) + 10**14 + int(index[0]) * 10**3,
        "ra": sra[src],
        "dec": sdec[src],
        "mjd": 55300 + rng.random(n) * 250,
    }
    for name in allwise_match.query_columns(columns.cached_columns()):
        if name in cols:
            continue
        kind = allwise.MEP_COLUMNS[name]
        if kind == "double":
            cols[name] = rng.normal(1000, 30, n)
        elif kind == "int64":
            cols[name] = np.ones(n, np.int64)
        else:
            cols[name] = np.full(n, "0000")
    return Table(cols)


def votable_bytes(targets, index, n_sources, n_exposures, seed, fmt) -> bytes:
    """:func:`answer` as the service's VOTable bytes (``fmt``: ``binary2`` or ``tabledata``)."""
    from astropy.io.votable import from_table

    vot = from_table(answer(targets, index, n_sources, n_exposures, seed))
    vot.get_first_table().format = fmt
    buf = io.BytesIO()
    vot.to_xml(buf)
    return buf.getvalue()


def main(argv=None) -> dict:
    """Run the benchmark with the command line ``argv``; print and return its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=20_000)
    parser.add_argument("--sources", type=int, default=2, help="AllWISE sources a target")
    parser.add_argument("--exposures", type=int, default=30, help="exposures a source")
    parser.add_argument(
        "--upload-rows", type=int, default=2000, help="catalog.allwise_mep.max_upload_rows"
    )
    parser.add_argument("--format", choices=["binary2", "tabledata"], default="binary2")
    args = parser.parse_args(argv)

    import pyarrow as pa
    from astropy.io.votable import parse_single_table

    from neowise_lightcurves import allwise_match, columns
    from neowise_lightcurves.matching import Cones

    rows = shard(args.targets)
    targets = rows.drop_duplicates("target_id", ignore_index=True)
    cones = Cones(targets["ra"], targets["dec"], 1.0)
    cached = columns.cached_columns()
    names = ["target_index", *allwise_match.query_columns(cached)]
    pieces, n_rows, n_bytes, parse_s, match_s = [], 0, 0, 0.0, 0.0
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for start in range(0, len(targets), args.upload_rows):
        index = np.arange(start, min(start + args.upload_rows, len(targets)))
        # the bytes the service sends for this chunk, made in a child process (neither timed
        # nor in this process's peak memory)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            body = pool.submit(
                votable_bytes, targets, index, args.sources, args.exposures, start, args.format
            ).result()
        n_bytes += len(body)
        t0 = time.perf_counter()
        table = parse_single_table(io.BytesIO(body)).to_table()  # what pyvo does
        del body
        t1 = time.perf_counter()
        found = allwise_match.answer_frame(table, names)
        del table
        n_rows += len(found)
        pieces.append(allwise_match.answer_matches(found, targets, rows, cones, cached))
        del found
        match_s += time.perf_counter() - t1
        parse_s += t1 - t0
    out = pa.concat_tables(pieces)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.targets:,} targets x {args.sources} sources x {args.exposures} exposures, "
        f"uploads of {args.upload_rows:,}: {n_rows:,} rows from the service "
        f"({n_bytes / 1e6:.0f} MB of {args.format} VOTable), {out.num_rows:,} matched within "
        f'1" ({out.nbytes / 1e6:.0f} MB)\n'
        f"parse {parse_s:.1f} s, exact test + partitions + columns {match_s:.1f} s; "
        f"peak RSS {peak:.0f} MB (at the start {base:.0f} MB)"
    )
    return {
        "service_rows": n_rows,
        "votable_bytes": n_bytes,
        "matched_rows": out.num_rows,
        "columns": out.column_names,
        "parse_s": parse_s,
        "match_s": match_s,
        "peak_rss_mb": peak,
    }


if __name__ == "__main__":
    main()
