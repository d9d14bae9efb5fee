"""The read path against IRSA's notebook method and the floor, on a realistic-density sky.

    python benchmarks/read_path.py generate --sky /tmp/nlc-dense            # ~4 min, ~3 GB
    python benchmarks/read_path.py inflate-metadata --sky /tmp/nlc-dense    # real-size _metadata
    python benchmarks/read_path.py run --sky /tmp/nlc-dense --workdir /tmp/nlc-rp
    python benchmarks/read_path.py metadata-cost --sky /tmp/nlc-dense      # vs IRSA's 30 s, 4 GB
    python benchmarks/read_path.py match-scale --sky /tmp/nlc-dense        # 100,000 targets
    python benchmarks/read_path.py pages --skies /tmp/nlc-dense   # what a page index would save

``generate`` writes a sky in IRSA's layout (all 143 columns, 2 years) with ``--partitions``
adjacent order-5 partitions of ``--rows`` rows a year each (~1.5 M, as on the real bucket),
made of sources seen ~24 times a year with 0.2" scatter, from k5 6812 (or ``--first``); rows
are ordered by ``--order``: ``spatial`` (default: partition, then a spatial index), ``random``
(shuffled within each file) or ``time`` (by ``mjd``, as a survey writes its exposures: each
visit's rows together), numbered by ``cntr`` in file order, and written in row groups of
``--row-group-size`` rows (the real files' row order and row-group size are unknown). Files
already there are kept (each is written atomically), so a larger sky can start from a smaller
one's files: the first partitions and their data are the same. ``sky.json`` records the order,
rows, row-group size, seed and first partition, and ``generate`` refuses to add to a sky
written with others (a sky without it is taken as spatial).
``run`` measures, for 1, 100 and 10,000 targets (placed on sources) at 1" and 10":

1. ours: ``snakemake --cores 2`` end to end, Snakemake's own overhead included;
   fetch: ``neowise_lightcurves.fetch()`` in one process (the same steps, no Snakemake);
2. baseline: the notebook's method, faithfully: a pyarrow dataset over each year's
   ``_metadata``, its box (target RA/Dec +/- 100 x radius) + ``cc_flags`` filter, astropy
   ``search_around_sky``, a multiprocessing pool of 2;
3. floor: reading the columns our output holds from the same partitions, no filtering.

Wall time, peak RSS and bytes read from storage (counted through a wrapping pyarrow
filesystem, :func:`neowise_lightcurves.iocount.counting_filesystem`) go into a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
YEARS = (1, 2)
#: The cuts every method applies (the notebook's).
CUTS = "cc_flags == '0000'"


# ------------------------------------------------------------------------------ generate
def partitions_of(n: int) -> list[int]:
    """``n`` adjacent order-5 partitions near (150, 2): the children of order-4 pixels."""
    import hpgeom

    first = int(hpgeom.angle_to_pixel(16, 150.0, 2.0)) * 4
    return [first + i for i in range(n)]


def spread_partitions(n: int) -> list[int]:
    """``n`` order-5 partitions spread evenly over the sky (a Fibonacci lattice of ``n``
    points, each point's partition), as the notebook's ~1 target per partition finds them;
    sorted."""
    import hpgeom

    i = np.arange(n) + 0.5
    dec = np.degrees(np.arcsin(1.0 - 2.0 * i / n))
    ra = np.degrees(np.pi * (1.0 + 5**0.5) * i) % 360.0
    pixels = sorted({int(p) for p in hpgeom.angle_to_pixel(32, ra, dec)})
    if len(pixels) != n:
        raise ValueError(f"{n} points fell in {len(pixels)} partitions")
    return pixels


def sources_in(pixel: int, n: int, rng) -> pd.DataFrame:
    """``n`` sources uniform on the sphere inside one order-5 pixel."""
    import hpgeom

    bra, bdec = hpgeom.boundaries(32, pixel, step=8)
    ra, dec = [], []
    while sum(len(r) for r in ra) < n:
        r = rng.uniform(bra.min(), bra.max(), 4 * n)
        d = np.degrees(np.arcsin(rng.uniform(*np.sin(np.radians([bdec.min(), bdec.max()])), 4 * n)))
        keep = hpgeom.angle_to_pixel(32, r, d) == pixel
        ra.append(r[keep])
        dec.append(d[keep])
    ra, dec = np.concatenate(ra)[:n], np.concatenate(dec)[:n]
    w1 = 9 + 8 * rng.random(n) ** 0.5
    return pd.DataFrame(
        {
            "ra": ra,
            "dec": dec,
            "w1": w1,
            "w2": w1 - 0.3,
            "kind": "constant",
            "region": "dense",
            "n_exposures": 12,
            "phase": 40.0,
            "index": np.arange(n),
        }
    )


#: Row orders :func:`generate` can write a file's rows in.
ORDERS = ("spatial", "random", "time")


def order_rows(table, order: str, rng=None):
    """``table`` (one partition-year, in the demo's spatial order) reordered: ``spatial`` keeps
    it (partition, then ``spt_ind``, then ``mjd``); ``random`` shuffles the rows (``rng``, a
    numpy Generator); ``time`` orders them by ``mjd``, as a survey writes its exposures (each
    visit's rows together, each exposure's rows together within it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if order == "spatial":
        return table
    if order == "random":
        return table.take(pa.array(rng.permutation(table.num_rows)))
    if order == "time":
        return table.take(pc.sort_indices(table, [("mjd", "ascending")]))
    raise ValueError(f"row order must be one of {', '.join(ORDERS)}, not {order!r}")


def _check_sky_record(sky: Path, record: dict) -> None:
    """Refuse to add files to a sky written with another row order, rows, row groups, seed or
    first partition (``sky.json``, written by :func:`generate`; a sky without one was written
    before it existed, in spatial order)."""
    path = sky / "sky.json"
    if path.exists():
        old = json.loads(path.read_text())
        old.pop("partitions", None)
        if old != record:
            raise SystemExit(
                f"{sky} was generated with {old}, not {record}: use another --sky folder"
            )
    elif record["order"] != "spatial" and any(sky.glob("year*/*/healpix_k0=*")):
        raise SystemExit(f"{sky} has files in spatial order (no sky.json): use another folder")


def generate(
    sky: Path,
    n_partitions: int,
    rows: int,
    row_group_size: int,
    seed: int,
    order: str = "spatial",
    first: int | None = None,
    jobs: int = 1,
    spread: bool = False,
) -> None:
    """Write the sky (see the module docstring). ``order``: each file's row order
    (:func:`order_rows`); ``first``: the first order-5 partition (default: that of
    :func:`partitions_of`), the others following it in NESTED order; ``spread``: partitions
    spread over the whole sky instead (:func:`spread_partitions`); ``jobs``: files written at
    once, in processes."""
    import pyarrow.parquet as pq

    from neowise_lightcurves import columns

    if order not in ORDERS:
        raise ValueError(f"row order must be one of {', '.join(ORDERS)}, not {order!r}")
    schema = columns.file_schema()
    if spread:
        pixels = spread_partitions(n_partitions)
    elif first is None:
        pixels = partitions_of(n_partitions)
    else:
        pixels = list(range(first, first + n_partitions))
    record = {
        "order": order,
        "rows": rows,
        "row_group_size": row_group_size,
        "seed": seed,
        "first": pixels[0],
        **({"spread": True} if spread else {}),
    }
    _check_sky_record(sky, record)
    (sky / "sky.json").write_text(json.dumps({**record, "partitions": len(pixels)}) + "\n")
    rng = np.random.default_rng(seed)
    n_sources = int(rows / (24 * 0.94))
    srcs = {p: sources_in(p, n_sources, rng) for p in pixels}
    pd.concat(srcs.values(), keys=pixels, names=["k5", "i"]).reset_index(level=0)[
        ["k5", "ra", "dec"]
    ].to_parquet(sky / "sources.parquet")
    todo = [
        (year, pixel)
        for year in YEARS
        for pixel in pixels
        if not (year_folder(sky, year) / partition_file(pixel)).exists()  # kept from a longer run
    ]
    args = [(sky, y, p, srcs[p], seed, order, row_group_size) for y, p in todo]
    if jobs > 1 and len(args) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            for line in pool.map(_write_partition, *zip(*args, strict=True)):
                print(line, flush=True)
    else:
        for a in args:
            print(_write_partition(*a), flush=True)
    for year in YEARS:
        ds = year_folder(sky, year)
        collector = []
        for pixel in pixels:
            md = pq.read_metadata(ds / partition_file(pixel))
            md.set_file_path(partition_file(pixel))
            collector.append(md)
        pq.write_metadata(schema, ds / "_common_metadata")
        pq.write_metadata(schema, ds / "_metadata", metadata_collector=collector)


def year_folder(sky: Path, year: int) -> Path:
    """A year's dataset folder in the sky ``sky``, as on IRSA's bucket."""
    return sky / f"year{year}" / f"neowiser-healpix_k5-year{year}.parquet"


def partition_file(pixel: int) -> str:
    """The path of order-5 ``pixel``'s (one) file, relative to its year's folder."""
    return f"healpix_k0={pixel // 1024}/healpix_k5={pixel}/part0.snappy.parquet"


def _write_partition(
    sky: Path,
    year: int,
    pixel: int,
    sources: pd.DataFrame,
    seed: int,
    order: str,
    row_group_size: int,
) -> str:
    """Write one partition-year's file (atomically); returns a line saying what it wrote."""
    import pyarrow as pa

    from neowise_lightcurves import atomic, columns, demo

    t0 = time.perf_counter()
    path = year_folder(sky, year) / partition_file(pixel)
    table = demo.year_table(demo.DemoSky(sources, pd.DataFrame()), f"year{year}", seed + pixel)
    keep = pa.compute.equal(table["healpix_k5"], pixel)  # scatter may cross the edge
    table = table.filter(keep).drop_columns(["healpix_k5"])
    table = order_rows(table, order, np.random.default_rng([seed, year, pixel]))
    cntr = (year * 100_000 + pixel) * 10_000_000 + np.arange(table.num_rows)
    table = table.set_column(table.schema.get_field_index("cntr"), "cntr", pa.array(cntr))
    atomic.write_parquet(
        table.cast(columns.file_schema()),
        path,
        row_group_size=row_group_size,
        compression="snappy",
    )
    size = path.stat().st_size
    return (
        f"year{year} k5={pixel}: {table.num_rows:,} rows, {size / 1e6:.0f} MB, "
        f"{time.perf_counter() - t0:.0f} s"
    )


def inflate_metadata(sky: Path, n_files: int) -> None:
    """Rewrite each year's ``_metadata`` to list ``n_files`` files, as the real one lists all
    12,288 partitions (gigabytes: "about 30 s and ~4 GB RAM to load per year"). The partitions
    that are not on this sky repeat the statistics of one that is, under their own path; a
    reader that filters on ``healpix_k5`` never opens them."""
    import pyarrow.parquet as pq

    for year in YEARS:
        ds = sky / f"year{year}" / f"neowiser-healpix_k5-year{year}.parquet"
        real = sorted(ds.glob("healpix_k0=*/healpix_k5=*/part*.parquet"))
        have = {int(p.parent.name.split("=")[1]) for p in real}
        base = pq.read_metadata(real[0])
        base.set_file_path(str(real[0].relative_to(ds)))
        for path in real[1:]:
            md = pq.read_metadata(path)
            md.set_file_path(str(path.relative_to(ds)))
            base.append_row_groups(md)
        template = pq.read_metadata(real[0])
        for pixel in (p for p in range(12 * 4**5) if p not in have):
            if base.num_row_groups // template.num_row_groups >= n_files:
                break
            template.set_file_path(
                f"healpix_k0={pixel // 1024}/healpix_k5={pixel}/part0.snappy.parquet"
            )
            base.append_row_groups(template)
        base.write_metadata_file(str(ds / "_metadata"))
        size = (ds / "_metadata").stat().st_size
        print(
            f"year{year}: _metadata lists {base.num_row_groups:,} row groups, {size / 1e9:.2f} GB"
        )


def metadata_cost(sky: Path, year: int) -> dict:
    """What opening one year's ``_metadata`` as a pyarrow dataset costs (the notebook's first
    step), to compare with IRSA's figure for the real one: "about 30 s and ~4 GB RAM"."""
    import pyarrow.dataset

    path = sky / f"year{year}" / f"neowiser-healpix_k5-year{year}.parquet" / "_metadata"
    t0 = time.perf_counter()
    ds = pyarrow.dataset.parquet_dataset(str(path), partitioning="hive")
    files = len(ds.files)
    return {
        "year": year,
        "metadata_gb": path.stat().st_size / 1e9,
        "files": files,
        "seconds": time.perf_counter() - t0,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def match_scale(sky: Path, n_targets: int, radius_arcsec: float) -> dict:
    """Match ``n_targets`` against one partition-year (~1.5 M rows) with the package's
    :func:`~neowise_lightcurves.matching.match_file`: does matching scale to 100,000 targets
    in one partition? Targets are random positions in the partition, half of them on sources."""
    import hpgeom
    import pyarrow.fs
    import pyarrow.parquet as pq

    from neowise_lightcurves import catalog, columns, matching

    src = pd.read_parquet(sky / "sources.parquet")
    k5 = int(src["k5"].iloc[0])
    src = src[src["k5"] == k5]
    rng = np.random.default_rng(11)
    on = src.sample(n_targets // 2, replace=n_targets // 2 > len(src), random_state=1)
    bra, bdec = hpgeom.boundaries(32, k5, step=8)
    ra = rng.uniform(bra.min(), bra.max(), 4 * n_targets)
    dec = rng.uniform(bdec.min(), bdec.max(), 4 * n_targets)
    inside = hpgeom.angle_to_pixel(32, ra, dec) == k5
    ra, dec = ra[inside][: n_targets - len(on)], dec[inside][: n_targets - len(on)]
    targets = pd.DataFrame(
        {
            "target_id": [f"t{i}" for i in range(n_targets)],
            "ra": np.concatenate([on["ra"].to_numpy(), ra]),
            "dec": np.concatenate([on["dec"].to_numpy(), dec]),
        }
    )
    cat = catalog.Catalog(pyarrow.fs.LocalFileSystem(), str(sky), str(sky))
    (info,) = cat.partition_files("year1", k5)
    t0 = time.perf_counter()
    cones = matching.Cones(targets["ra"], targets["dec"], radius_arcsec)
    t1 = time.perf_counter()
    out = matching.match_file(cat, info, targets, radius_arcsec, columns.cached_columns(), cones)
    t2 = time.perf_counter()
    return {
        "targets": n_targets,
        "radius_arcsec": radius_arcsec,
        "rows_in_partition": pq.ParquetFile(info.path).metadata.num_rows,
        "matches": sum(t.num_rows for t in out),
        "cones_s": t1 - t0,
        "match_file_s": t2 - t1,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def write_targets(sky: Path, n: int, path: Path, radius_arcsec: float, seed: int = 7) -> None:
    """``n`` targets on real sources, taken from the partitions in turn (one in each before a
    second in any), whose cones of ``radius_arcsec`` stay on the sky: on the bucket every
    partition has files, while here a cone reaching off the sky would make a match job with
    nothing to read (and cost the floor nothing). Sources near a partition's edge, whose cone
    (ours or the notebook's coarser query of it) reaches a partition the sky lacks, are passed
    over for the next one in the same partition.

    Raises
    ------
    ValueError
        When the sky's sources cannot give ``n`` such targets.

    Notes
    -----
    Before 2026-12-07 the sources passed over were not replaced, so fewer targets than asked
    were written (17 of 24 on the 24 spread partitions, 87 of 100 on 4): benchmarks/README.md
    says which tables that concerns."""
    import hpgeom

    from neowise_lightcurves import sky as nl_sky

    src = pd.read_parquet(sky / "sources.parquet").sample(frac=1, random_state=seed)
    src = src.iloc[np.argsort(src.groupby("k5").cumcount().to_numpy(), kind="stable")]
    sources = src["k5"].value_counts()  # by partition
    on_sky = set(sources.index.tolist())
    per_partition = -(-n // len(on_sky))  # as even as the sky allows
    fitting = [src.iloc[:0]]
    looked = 0

    def enough() -> bool:
        """Every partition has its share of fitting sources, or none left to look at."""
        fit = pd.concat(fitting)["k5"].value_counts().reindex(sources.index, fill_value=0)
        seen = src["k5"].iloc[:looked].value_counts().reindex(sources.index, fill_value=0)
        return bool(((fit >= per_partition) | (seen == sources)).all())

    while not enough() and looked < len(src):
        pick = src.iloc[looked : looked + 4 * n + 10]
        looked += len(pick)
        cones = nl_sky.cone_partitions(pick["ra"], pick["dec"], radius_arcsec)
        # ... and the notebook's own query of them (hpgeom's inclusive one, which may add pixels)
        notebook = [
            hpgeom.query_circle(32, r, d, radius_arcsec / 3600, nest=True, inclusive=True)
            for r, d in zip(pick["ra"], pick["dec"], strict=True)
        ]
        fits = [
            set(c.tolist()) | set(q.tolist()) <= on_sky
            for c, q in zip(cones, notebook, strict=True)
        ]
        fitting.append(pick[fits])
    chosen = pd.concat(fitting)
    if len(chosen) < n:
        raise ValueError(f"{sky}: only {len(chosen)} sources can be targets, not {n}")
    turn = chosen.groupby("k5").cumcount().to_numpy()  # among the fitting ones
    chosen = chosen.iloc[np.argsort(turn, kind="stable")[:n]]
    pd.DataFrame(
        {
            "uid": np.arange(1, n + 1),
            "RAJ2000": chosen["ra"].to_numpy(),
            "DEJ2000": chosen["dec"].to_numpy(),
        }
    ).to_csv(path, index=False)


# ------------------------------------------------------------------------------ baseline
_neowise_ds = _columns = _radius = _counter = None


def _init_worker(neowise_ds, columns, radius, counter):
    global _neowise_ds, _columns, _radius, _counter
    _neowise_ds, _columns, _radius, _counter = neowise_ds, columns, radius, counter


def _construct_dataset_filters(*, targets_group, radius, scale_factor=100):
    import pyarrow.compute

    pixel, locations_df = targets_group
    filters = pyarrow.compute.field("healpix_k5") == pixel
    buffer_dist = scale_factor * radius.to_value("deg")
    for coord, target_coord in zip(["ra", "dec"], ["RAJ2000", "DEJ2000"], strict=True):
        coord_fld = pyarrow.compute.field(coord)
        filters = filters & (coord_fld > locations_df[target_coord].min() - buffer_dist)
        filters = filters & (coord_fld < locations_df[target_coord].max() + buffer_dist)
    return filters & pyarrow.compute.equal(pyarrow.compute.field("cc_flags"), "0000")


def _cone_search(*, targets_group, pixel_tbl, radius):
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    _, targets_df = targets_group
    pixel_skycoords = SkyCoord(ra=pixel_tbl["ra"] * u.deg, dec=pixel_tbl["dec"] * u.deg)
    targets_skycoords = SkyCoord(targets_df["RAJ2000"], targets_df["DEJ2000"], unit=u.deg)
    targets_ilocs, pixel_ilocs, _, _ = pixel_skycoords.search_around_sky(targets_skycoords, radius)
    match_df = pixel_tbl.take(pixel_ilocs).to_pandas()
    match_df["targets_ilocs"] = targets_ilocs
    return match_df.set_index("targets_ilocs").join(targets_df.reset_index().uid)


def _load_lightcurves_one_partition(targets_group):
    before, before_reads = _counter.bytes, _counter.reads
    filters = _construct_dataset_filters(targets_group=targets_group, radius=_radius)
    pixel_tbl = _neowise_ds.to_table(columns=_columns, filter=filters)
    out = _cone_search(targets_group=targets_group, pixel_tbl=pixel_tbl, radius=_radius)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out, _counter.bytes - before, _counter.reads - before_reads, rss


def baseline(
    sky: Path, targets_csv: Path, radius_arcsec: float, filesystem=None, root: str | None = None
) -> dict:
    """IRSA's notebook, section by section (reads counted). ``filesystem`` and ``root``: where
    the catalogue is (default: the local ``sky``); e.g. a pyarrow S3 filesystem and
    ``bucket/prefix``."""
    import multiprocessing

    import astropy.units as u
    import hpgeom
    import pyarrow.dataset
    import pyarrow.fs

    from neowise_lightcurves.iocount import ReadCounter, counting_filesystem

    t0 = time.perf_counter()
    counter = ReadCounter()
    # a filesystem given (S3) is counted where it is served (the benchmark's proxy): wrapping
    # its files in Python ones would change how pyarrow reads them
    fs = filesystem or counting_filesystem(pyarrow.fs.LocalFileSystem(), counter)
    root = root or str(sky)
    radius = radius_arcsec * u.arcsec
    metadata_path = lambda yr: f"{root}/year{yr}/neowiser-healpix_k5-year{yr}.parquet/_metadata"  # noqa: E731
    year_datasets = [
        pyarrow.dataset.parquet_dataset(metadata_path(yr), filesystem=fs, partitioning="hive")
        for yr in YEARS
    ]
    neowise_ds = pyarrow.dataset.dataset(year_datasets)
    metadata_bytes, reads = counter.bytes, counter.reads
    cvs_df = pd.read_csv(targets_csv)
    cvs_df["healpix_k5"] = [
        hpgeom.query_circle(
            a=cv.RAJ2000,
            b=cv.DEJ2000,
            radius=radius.to_value("deg"),
            nside=hpgeom.order_to_nside(order=5),
            nest=True,
            inclusive=True,
        )
        for cv in cvs_df.itertuples()
    ]
    targets_df = cvs_df.explode("healpix_k5", ignore_index=True)
    groups = targets_df.groupby("healpix_k5")
    columns = ["cntr", "ra", "dec", "mjd", "w1flux", "w2flux"]
    lightcurves, read, rss = (
        [],
        metadata_bytes,
        [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss],
    )
    with multiprocessing.Pool(
        2, initializer=_init_worker, initargs=(neowise_ds, columns, radius, counter)
    ) as pool:
        for df, nbytes, nreads, worker_rss in pool.imap_unordered(
            _load_lightcurves_one_partition, groups, chunksize=1
        ):
            lightcurves.append(df)
            read += nbytes
            reads += nreads
            rss.append(worker_rss)
    result = pd.concat(lightcurves).sort_values("mjd").reset_index(drop=True)
    return {
        "wall": time.perf_counter() - t0,
        "reads": reads,
        "bytes": read,
        "rows": len(result),
        "cntr_sum": int(result["cntr"].sum()),
        "peak_mb": max(rss) / 1024,
    }


# ------------------------------------------------------------------------------ floor
def floor(
    sky: Path,
    targets_csv: Path,
    radius_arcsec: float,
    filesystem=None,
    root: str | None = None,
    columns: list[str] | None = None,
    threads: int = 2,
) -> dict:
    """Read ``columns`` (default: those our output holds) from every file of the partitions the
    targets touch, ``threads`` files at once, each partition's as soon as its listing is back
    (listings overlap reads, as in a match); no filter. ``filesystem``, ``root``: as for
    :func:`baseline`."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    import pyarrow.fs

    from neowise_lightcurves import catalog, parquet, ranged
    from neowise_lightcurves import columns as nl_columns
    from neowise_lightcurves import sky as nl_sky
    from neowise_lightcurves.iocount import ReadCounter, counting_filesystem

    t0 = time.perf_counter()
    counter = ReadCounter()
    base = filesystem or pyarrow.fs.LocalFileSystem()
    root = root or str(sky)
    fs = filesystem or counting_filesystem(base, counter)  # see baseline()
    t = pd.read_csv(targets_csv)
    parts = sorted(
        {
            int(k)
            for p in nl_sky.cone_partitions(t["RAJ2000"], t["DEJ2000"], radius_arcsec)
            for k in p
        }
    )
    cat = catalog.Catalog(base, root, root)
    cols = list(columns or nl_columns.cached_columns())

    def read(info):  # every row group at once, its ranges fetched concurrently
        source, meta = parquet.open_parquet(fs, info.path, info.size)
        groups = list(range(meta.num_row_groups))
        return ranged.read_row_groups(source, meta, groups, cols).num_rows

    # partitions listed ``threads`` at once, each one's files read as its listing is back,
    # ``threads`` files at once
    with ThreadPoolExecutor(threads) as lister, ThreadPoolExecutor(threads) as reader:
        listings = [lister.submit(cat.partition_files, f"year{y}", k) for y in YEARS for k in parts]
        reads = [reader.submit(read, f) for done in as_completed(listings) for f in done.result()]
        rows = sum(r.result() for r in reads)
    return {
        "wall": time.perf_counter() - t0,
        "reads": counter.reads,
        "bytes": counter.bytes,
        "rows": rows,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# ------------------------------------------------------------------------------ pages
#: Rows a data page holds in the estimate of :func:`page_savings`: pyarrow's writer's limit
#: since ``max_rows_per_page`` came in (20,000, pyarrow 26's documented default), and a page of
#: 1 MiB of 8-byte values (131,072 rows), where a writer without a row limit cuts a numeric
#: column's pages (``data_page_size``, 1 MiB by default).
PAGE_ROWS = (20_000, 131_072)


def page_savings(
    sky: Path,
    targets_csv: Path,
    radius_arcsec: float,
    rows_per_page: tuple[int, ...] = PAGE_ROWS,
    columns: list[str] | None = None,
) -> dict:
    """What Parquet's page index would save the second read of a match (the columns other
    than ``ra``/``dec`` of the row groups holding a match, ``columns`` or the cached ones by
    default), estimated from the files' own matches, as pyarrow cannot read by page: a
    column chunk of ``n`` rows is taken as ``ceil(n / P)`` pages of ``P`` rows and equal
    size, and a reader with the page index reads only the pages holding a matched row. The
    positions (every row group's ``ra``, ``dec``) are read whole either way.

    Returns
    -------
    dict
        ``positions_bytes`` (every row group's ``ra``, ``dec``), ``others_bytes`` (the other
        columns of the row groups holding a match, as read now), ``pages_bytes`` (``{P:
        bytes}``, the same read by page), the row groups holding a match and in all, and the
        matched rows.
    """
    import pyarrow.fs
    import pyarrow.parquet as pq

    from neowise_lightcurves import catalog, parquet
    from neowise_lightcurves import columns as nl_columns
    from neowise_lightcurves import sky as nl_sky

    t = pd.read_csv(targets_csv)
    cones = nl_sky.cone_partitions(t["RAJ2000"], t["DEJ2000"], radius_arcsec)
    near: dict[int, list[int]] = {}
    for i, parts in enumerate(cones):
        for k in parts:
            near.setdefault(int(k), []).append(i)
    target_xyz = nl_sky.unit_vectors(t["RAJ2000"].to_numpy(), t["DEJ2000"].to_numpy())
    others = [c for c in (columns or nl_columns.cached_columns()) if c not in ("ra", "dec")]
    cat = catalog.Catalog(pyarrow.fs.LocalFileSystem(), str(sky), str(sky))
    out = {"positions_bytes": 0, "others_bytes": 0, "pages_bytes": dict.fromkeys(rows_per_page, 0)}
    out.update(row_groups_matched=0, row_groups=0, matched_rows=0)
    for year in YEARS:
        for k, members in sorted(near.items()):
            for f in cat.partition_files(f"year{year}", k):
                pf = pq.ParquetFile(f.path)
                needed = ["ra", "dec", *others]
                index = dict(zip(needed, parquet.column_indices(pf.metadata, needed), strict=True))
                for g in range(pf.metadata.num_row_groups):
                    rg = pf.metadata.row_group(g)
                    chunk = {c: rg.column(i).total_compressed_size for c, i in index.items()}
                    out["row_groups"] += 1
                    out["positions_bytes"] += chunk["ra"] + chunk["dec"]
                    pos = pf.read_row_group(g, columns=["ra", "dec"])
                    xyz = nl_sky.unit_vectors(pos["ra"].to_numpy(), pos["dec"].to_numpy())
                    chord = np.linalg.norm(xyz[:, None, :] - target_xyz[None, members, :], axis=2)
                    rows = np.flatnonzero((nl_sky.chord_to_arcsec(chord) <= radius_arcsec).any(1))
                    if not len(rows):
                        continue
                    out["row_groups_matched"] += 1
                    out["matched_rows"] += len(rows)
                    n = rg.num_rows
                    for c in others:
                        out["others_bytes"] += chunk[c]
                        for page in rows_per_page:
                            hit = len(np.unique(rows // page)) / -(-n // page)
                            out["pages_bytes"][page] += chunk[c] * hit
    out["pages_bytes"] = {p: round(b) for p, b in out["pages_bytes"].items()}
    return out


def page_table(skies: list[Path], targets: int, radius_arcsec: float, workdir: Path) -> None:
    """Print :func:`page_savings` for each sky (its targets as :func:`run` places them) as a
    Markdown table."""
    workdir.mkdir(parents=True, exist_ok=True)
    head = " | ".join(f"second read by {p:,}-row pages" for p in PAGE_ROWS)
    print(
        f"| sky | row groups holding a match / all | matched rows | positions (MB) | "
        f"second read now (MB) | {head} | whole read now / by {PAGE_ROWS[0]:,}-row pages (MB) |"
    )
    print("|---" * (6 + len(PAGE_ROWS)) + "|")
    for sky in skies:
        targets_csv = workdir / f"{sky.name}-targets-{targets}.csv"
        write_targets(sky, targets, targets_csv, radius_arcsec)
        r = page_savings(sky, targets_csv, radius_arcsec)
        mb = r["others_bytes"] / 1e6
        share = {p: r["pages_bytes"][p] / max(r["others_bytes"], 1) for p in PAGE_ROWS}
        pages = " | ".join(f"{r['pages_bytes'][p] / 1e6:,.1f} ({share[p]:.0%})" for p in PAGE_ROWS)
        whole = (r["positions_bytes"] + r["others_bytes"]) / 1e6
        paged = (r["positions_bytes"] + r["pages_bytes"][PAGE_ROWS[0]]) / 1e6
        print(
            f"| {sky.name} | {r['row_groups_matched']} / {r['row_groups']} | "
            f"{r['matched_rows']:,} | {r['positions_bytes'] / 1e6:,.1f} | {mb:,.1f} | {pages} | "
            f"{whole:,.1f} / {paged:,.1f} |"
        )


# ------------------------------------------------------------------------------ fetch
def fetch_method(
    sky: Path,
    targets_csv: Path,
    radius_arcsec: float,
    root: str | None = None,
    s3=None,
    **options,
) -> dict:
    """neowise_lightcurves.fetch() in this process (requests and bytes from its read record);
    ``root`` and ``s3``: the catalogue (default: the local ``sky``) and ``catalog.s3``;
    ``options``: more of fetch()'s keywords (e.g. ``columns="notebook"``)."""
    import astropy.table  # noqa: F401  (the notebook method's imports come before its clock too)

    from neowise_lightcurves import inprocess, reads

    t0 = time.perf_counter()
    record = reads.ReadRecord()
    catalog = {"root": root or str(sky), **({"s3": s3} if s3 else {})}
    lc = inprocess.fetch(
        pd.read_csv(targets_csv),
        years=list(YEARS),
        radius_arcsec=radius_arcsec,
        cuts=CUTS,
        record=record,
        **catalog,
        **options,
    )
    return {
        "wall": time.perf_counter() - t0,
        "reads": record.requests,
        "bytes": record.bytes,
        "rows": len(lc),
        "cntr_sum": int(lc["cntr"].sum()),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def workflow_config(targets_csv: Path, radius_arcsec: float, catalog: dict) -> dict:
    """The config ``ours`` runs the workflow with: ``catalog`` (root, ...) and the years."""
    return {
        "targets": {"source": "file", "path": str(targets_csv)},
        "catalog": {**catalog, "years": list(YEARS)},
        "match": {"radius_arcsec": radius_arcsec, "cuts": CUTS},
        "plots": {"top_n": 1},
        "outputs": {"per_target_formats": []},  # the other methods write no per-target files
        # the staged rules, as every table before one_job: auto (2026-12-07) ran them: auto
        # would run a small target file in one job
        "one_job": False,
    }


# ------------------------------------------------------------------------------ ours
def ours(sky: Path, targets_csv: Path, radius_arcsec: float, workdir: Path) -> dict:
    import shutil

    from workflow_costs import snakemake as run_workflow  # benchmarks/ is on sys.path

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    io = workdir / "io"
    cfg = workflow_config(targets_csv, radius_arcsec, {"root": str(sky)})
    env = dict(os.environ, NEOWISE_LC_COUNT_BYTES=str(io))
    wall, _ = run_workflow(workdir, cfg, env=env)
    jobs = [json.loads(p.read_text()) for p in io.glob("*.json")]
    rows = len(pd.read_parquet(workdir / "results/lightcurves.parquet", columns=["cntr"]))
    return {
        "wall": wall,
        # from the first match job's catalogue opening to the last one's exit
        "match_stage": max(j["ended"] for j in jobs) - min(j["opened"] for j in jobs),
        "reads": sum(j["reads"] for j in jobs),
        "bytes": sum(j["bytes"] for j in jobs),
        "rows": rows,
        "peak_mb": max(j["max_rss_kb"] for j in jobs) / 1024,
        "all_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def in_subprocess(method: str, sky: Path, targets_csv: Path, radius: float) -> dict:
    """Run baseline, floor or fetch in a fresh Python, so that each one's peak memory is its
    own."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            method,
            "--sky",
            str(sky),
            "--targets",
            str(targets_csv),
            "--radius",
            str(radius),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(
    sky: Path,
    workdir: Path,
    counts: list[int],
    radii: list[float],
    methods: list[str],
    repeat: int = 1,
) -> None:
    """The table; with ``repeat`` > 1 each method runs that many times and the run of median
    wall time goes in the table (all wall times are printed)."""
    from neowise_lightcurves import sky as nl_sky

    workdir.mkdir(parents=True, exist_ok=True)
    n_parts = pd.read_parquet(sky / "sources.parquet", columns=["k5"])["k5"].nunique()
    lines = [
        "| targets | radius | method | wall (s) | match stage (s) | peak RSS (MB) | "
        "bytes read (MB) | bytes/partition-year (MB) | read calls | rows |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in counts:
        targets_csv = workdir / f"targets-{n}.csv"
        write_targets(sky, n, targets_csv, max(radii))
        t = pd.read_csv(targets_csv)
        touched = len(
            {int(k) for p in nl_sky.cone_partitions(t["RAJ2000"], t["DEJ2000"], 1.0) for k in p}
        )
        for radius in radii:
            runs = {m: [] for m in ("ours", "fetch", "baseline", "floor") if m in methods}
            for _ in range(repeat):  # the methods take turns, so drifts hit them alike
                for method, done in runs.items():
                    if method == "ours":
                        wd = workdir / f"ours-{n}-{radius:g}"
                        done.append(ours(sky, targets_csv, radius, wd))
                    else:
                        done.append(in_subprocess(method, sky, targets_csv, radius))
            results = {}
            for method, done in runs.items():
                # the run of median wall time goes in the table
                results[method] = sorted(done, key=lambda r: r["wall"])[len(done) // 2]
                if repeat > 1:
                    walls = ", ".join(f"{r['wall']:.1f}" for r in done)
                    print(f'{n:,} targets, {radius:g}": {method} walls {walls} s', flush=True)
            for method, r in results.items():
                per = r["bytes"] / 1e6 / (max(touched, 1) * len(YEARS))
                stage = f"{r['match_stage']:.1f}" if "match_stage" in r else ""
                lines.append(
                    f'| {n:,} | {radius:g}" | {method} | {r["wall"]:.1f} | {stage} | '
                    f"{r['peak_mb']:.0f} | {r['bytes'] / 1e6:.0f} | {per:.1f} | "
                    f"{r['reads']:,} | {r['rows']:,} |"
                )
                print(lines[-1], flush=True)
    print(f"\n{n_parts} partitions on the sky\n")
    print("\n".join(lines))


def main(argv=None) -> dict | None:
    """Run the benchmark's command in ``argv``; print its results, and return those of
    ``match-scale``, ``metadata-cost`` and the single methods."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--sky", type=Path, required=True)
    g.add_argument("--partitions", type=int, default=4)
    g.add_argument("--rows", type=int, default=1_500_000)
    g.add_argument("--row-group-size", type=int, default=100_000)
    g.add_argument("--seed", type=int, default=5)
    g.add_argument(
        "--order",
        choices=ORDERS,
        default="spatial",
        help="rows of each file: by a spatial index (default), shuffled, or by mjd",
    )
    g.add_argument(
        "--first",
        type=int,
        default=None,
        help="first order-5 partition (default: the one holding (150, 2)'s order-4 pixel)",
    )
    g.add_argument(
        "--spread",
        action="store_true",
        help="partitions spread over the whole sky (the notebook's ~1 target per partition)",
    )
    g.add_argument("--jobs", type=int, default=1, help="files written at once, in processes")
    m = sub.add_parser("inflate-metadata")
    m.add_argument("--sky", type=Path, required=True)
    m.add_argument("--files", type=int, default=12 * 4**5)
    r = sub.add_parser("run")
    r.add_argument("--sky", type=Path, required=True)
    r.add_argument("--workdir", type=Path, default=Path("/tmp/nlc-read-path"))
    r.add_argument("--targets", type=int, nargs="+", default=[1, 100, 10_000])
    r.add_argument("--radii", type=float, nargs="+", default=[1.0, 10.0])
    r.add_argument(
        "--methods",
        nargs="+",
        default=["ours", "fetch", "baseline", "floor"],
        choices=["ours", "fetch", "baseline", "floor"],
    )
    r.add_argument("--repeat", type=int, default=1, help="runs per method; the median goes in")
    sc = sub.add_parser("match-scale")
    sc.add_argument("--sky", type=Path, required=True)
    sc.add_argument("--targets", type=int, default=100_000)
    sc.add_argument("--radius", type=float, default=1.0)
    c = sub.add_parser("metadata-cost")
    c.add_argument("--sky", type=Path, required=True)
    c.add_argument("--year", type=int, default=1)
    pg = sub.add_parser("pages", help="what Parquet's page index would save (an estimate)")
    pg.add_argument("--skies", type=Path, nargs="+", required=True)
    pg.add_argument("--targets", type=int, default=24)
    pg.add_argument("--radius", type=float, default=1.0)
    pg.add_argument("--workdir", type=Path, default=Path("/tmp/nlc-pages"))
    for name in ("baseline", "floor", "fetch"):
        m = sub.add_parser(name)
        m.add_argument("--sky", type=Path, required=True)
        m.add_argument("--targets", type=Path, required=True)
        m.add_argument("--radius", type=float, required=True)
    args = ap.parse_args(argv)
    if args.cmd == "generate":
        args.sky.mkdir(parents=True, exist_ok=True)
        generate(
            args.sky,
            args.partitions,
            args.rows,
            args.row_group_size,
            args.seed,
            args.order,
            args.first,
            args.jobs,
            args.spread,
        )
    elif args.cmd == "inflate-metadata":
        inflate_metadata(args.sky, args.files)
    elif args.cmd == "match-scale":
        return echo(match_scale(args.sky, args.targets, args.radius))
    elif args.cmd == "metadata-cost":
        return echo(metadata_cost(args.sky, args.year))
    elif args.cmd == "run":
        run(args.sky, args.workdir, args.targets, args.radii, args.methods, args.repeat)
    elif args.cmd == "pages":
        page_table(args.skies, args.targets, args.radius, args.workdir)
    else:
        fn = {"baseline": baseline, "floor": floor, "fetch": fetch_method}[args.cmd]
        return echo(fn(args.sky, args.targets, args.radius))


def echo(result: dict) -> dict:
    """Print ``result`` as one line of JSON (what :func:`in_subprocess` reads); return it."""
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
