"""A run's stages as functions: what each rule's script calls, and :func:`run_in_one_job`, which
runs them all in one process for a small sample (``one_job``: true, or auto for a small targets
file: :func:`neowise_lightcurves.config.one_job`).

Each stage takes the paths its rule names (inputs, outputs) and, as keywords, the rule's
``params:``, which :func:`neowise_lightcurves.config.stage_params` works out from the
configuration for the rules and for :func:`run_in_one_job` alike. A stage writes its outputs
atomically and logs what it did to the ``neowise_lightcurves`` logger (the job's log,
:func:`~neowise_lightcurves.logs.to_file`).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from . import (
    allwise,
    allwise_match,
    atomic,
    cache,
    catalog,
    iocount,
    manifest,
    matching,
    merge,
    motion,
    outputs,
    reads,
    surveys,
    target_files,
)
from . import cuts as nl_cuts
from . import targets as nl_targets
from .columns import LOCATION_COLUMNS

log = logging.getLogger("neowise_lightcurves")


# ------------------------------------------------------------------------------ stages
def make_targets(source: str | None, output: str, *, targets: dict, proper_motion: bool) -> int:
    """The target list (a file, the demo's, or a VizieR query when ``source`` is None) read,
    validated and written to ``output``; returns how many targets."""

    if targets["source"] == "vizier":
        v = targets["vizier"]
        frame = nl_targets.query_vizier(v["tap_url"], v["table"], v["columns"], v["row_limit"])
    else:
        frame = nl_targets.read_table(source)
    table = nl_targets.normalize_with(frame, targets, proper_motion)
    atomic.write_frame(table, output)
    log.info("%d targets -> %s", len(table), output)
    return len(table)


def make_manifest(
    targets_path: str,
    partitions: str,
    shards: str,
    groups: str,
    *,
    radius_arcsec: float,
    proper_motion: bool,
    years: list[str],
    shard_order: int,
    max_shard_targets: int,
    max_shard_partitions: int,
    columns: list[str],
    allwise_columns: list[str],
    catalog_key: str,
    allwise_key: str | None,
):
    """The partitions each target's cone touches, the shards with their cache keys and the
    groups of targets, written to ``partitions``, ``shards`` and ``groups``; returns the
    shards and groups (:func:`~neowise_lightcurves.manifest.shards`, ``groups``)."""

    # proper motions too, when the targets have them and match.proper_motion is on
    kept = ["target_id", "ra", "dec"] + (list(motion.COLUMNS) if proper_motion else [])
    names = pq.read_schema(targets_path).names
    targets = pd.read_parquet(targets_path, columns=[c for c in kept if c in names])
    rows = manifest.target_partitions(
        targets,
        radius_arcsec,
        shard_order,
        max_shard_targets,
        years=years,
        max_shard_partitions=max_shard_partitions,
    )
    mep_key = None if allwise_key is None else allwise.digest_key(allwise_key)
    shard_list = manifest.shards(
        rows, radius_arcsec, tuple(columns), catalog_key, mep_key, tuple(allwise_columns)
    )
    group_list = manifest.groups(rows)
    # small row groups: each match and light-curve job reads only its own rows
    atomic.write_frame(rows, partitions, row_group_size=manifest.ROW_GROUP_ROWS)
    manifest.write_shards(shards, shard_list)
    manifest.write_groups(groups, group_list)
    log.info(
        "%d targets touch %d order-5 partitions in %d shards (order %d to 5; -1: the whole "
        "sky) and lie in %d groups (at most %d targets to a shard or group above order 5)",
        len(targets),
        rows["k5"].nunique(),
        len(shard_list),
        shard_order,
        len(group_list),
        max_shard_targets,
    )
    return shard_list, group_list


def match(
    partitions: str,
    year: str,
    shard: str,
    digest: str,
    output: str,
    *,
    root: str,
    s3: dict,
    radius_arcsec: float,
    columns: list[str],
    catalog_key: str,
    concurrent_partitions: int,
) -> None:
    """One shard's targets matched in one year's partitions, written to ``output`` (a match
    cache file) with what was read; the shard's ``digest`` is checked against the manifest."""

    rows = pd.read_parquet(partitions, filters=[("shard", "==", shard)])
    manifest.check_digest(rows, shard, digest, radius_arcsec, tuple(columns), catalog_key)
    # counting what it reads only where a benchmark asks (iocount.COUNT_BYTES_ENV)
    cat = iocount.from_environment(catalog.open_catalog(root, s3=s3))
    record = reads.ReadRecord()
    table = matching.match_shard(
        cat, year, rows, radius_arcsec, tuple(columns), concurrent_partitions, record
    )
    table = reads.write_record(table, record)  # what this job read, kept with its output
    # sorted by target, in small row groups: a light-curve job reads only its targets' rows
    atomic.write_parquet(table, output, row_group_size=matching.CACHE_ROW_GROUP_ROWS)
    n = rows["target_id"].nunique()
    log.info("%s %s: %d matches of %d targets", year, shard, table.num_rows, n)
    log.info("%s %s read: %s", year, shard, record.to_dict())


def match_columns(
    matches: str,
    output: str,
    *,
    root: str,
    s3: dict,
    columns: list[str],
    key: str = "",
    concurrent_partitions: int,
) -> None:
    """The cuts' and ``extra_columns``' columns for the matches of one match file, read where
    its ``catalog_file``/``catalog_row`` say, written to ``output`` row for row (``key``: the
    columns' key, which ``output``'s name holds)."""

    locations = pq.read_table(matches, columns=["cntr", *LOCATION_COLUMNS])
    cat = iocount.from_environment(catalog.open_catalog(root, s3=s3))
    record = reads.ReadRecord()
    table = matching.read_at(cat, locations, tuple(columns), concurrent_partitions, record)
    # cntr beside them: the light-curve jobs check that the rows line up
    table = reads.write_record(table.add_column(0, "cntr", locations["cntr"]), record)
    atomic.write_parquet(table, output, row_group_size=matching.CACHE_ROW_GROUP_ROWS)
    name, read = Path(output).name, record.to_dict()
    log.info("%s: %d rows, columns %s; read: %s", name, table.num_rows, list(columns), read)


def match_allwise(
    partitions: str,
    shard: str,
    digest: str,
    output: str,
    *,
    root: str | None,
    s3: dict,
    tap: dict,
    radius_arcsec: float,
    columns: list[str],
    allwise_key: str,
    concurrent_partitions: int,
) -> None:
    """One shard's targets in the AllWISE MEP, through TAP (``root`` None) or a local copy,
    written to ``output`` (its cache file)."""

    rows = pd.read_parquet(partitions, filters=[("shard", "==", shard)])
    allwise.check_digest(rows, shard, digest, radius_arcsec, tuple(columns), allwise_key)
    record = reads.ReadRecord()
    table = allwise_match.match(
        rows,
        radius_arcsec,
        tuple(columns),
        tap,
        root=root,
        s3=s3,
        concurrent_partitions=concurrent_partitions,
        what=f"AllWISE MEP for shard {shard}",
        record=record,
    )
    table = reads.write_record(table, record)
    atomic.write_parquet(table, output, row_group_size=matching.CACHE_ROW_GROUP_ROWS)
    n = rows["target_id"].nunique()
    log.info("allwise %s: %d exposures of %d targets", shard, table.num_rows, n)


def lightcurves(
    partitions: str,
    group: str,
    matches: list[str],
    columns_files: list[str],
    lightcurves_path: str,
    binned: str,
    summary: str,
    per_target: str | None,
    *,
    cuts,
    binning: dict,
    association: dict,
    periods: dict,
    root: str,
    years: list[str],
    radius_arcsec: float,
    formats: list[str],
    side_key: str,
) -> dict:
    """One group's light curves, binned epochs, summary rows and per-target files, from the
    match files of every shard its targets' cones touch (and their columns files,
    ``columns_files``, where there are any); returns the group's counts."""

    moving = set(motion.COLUMNS) <= set(pq.read_schema(partitions).names)  # when targets move
    homes = pd.read_parquet(
        partitions,
        columns=["target_id", "ra", "dec", *(motion.COLUMNS if moving else ())],
        filters=[("group", "==", group), ("home", "==", True)],
    )
    meta = target_files.provenance(root, years, radius_arcsec, cuts, nl_cuts.expression(cuts))
    outputs = merge.Outputs(lightcurves_path, binned, summary, per_target, tuple(formats))
    made = set(columns_files)
    beside = {m: cache.columns_name(m, side_key) for m in matches} if side_key else {}
    stats = merge.merge_group(
        list(matches),
        homes,
        outputs,
        cuts,
        binning,
        meta,
        group=group,
        association_options=dict(association),
        periods_options=periods if periods["enabled"] else None,
        columns_files={m: c for m, c in beside.items() if c in made},
    )
    log.info("%s: %s (cuts %r)", group, stats, cuts)
    return stats


def summary(pieces: list[str], per_target: list[str], output: str, index: str | None = None) -> int:
    """The groups' summary rows in one file (``output``) and, with ``index``, the index of
    the per-target files in the folders ``per_target``; files of groups no longer in the
    manifest are removed. Returns the number of targets."""

    n = outputs.concat_parquet(list(pieces), output)
    if index:
        folders = {Path(f).name: f for f in per_target}
        files = outputs.gather_target_index(folders, index)
        log.info("%d per-target files -> %s", files, index)
    groups = [Path(p).stem for p in pieces]
    for path in outputs.remove_stale_groups(Path(output).parent, groups, bool(index)):
        log.info("removed %s (its group is no longer in the manifest)", path)
    log.info("%d targets from %d groups -> %s", n, len(pieces), output)
    return n


def plots(summary_path: str, output: str, *, top_n, flux_unit: str, gap_days: float) -> int:
    """Epoch figures of the ``top_n`` targets with most detections in the folder ``output``
    (only their rows are read); returns how many."""

    from . import plots as nl_plots

    names = pq.read_schema(summary_path).names
    wanted = ["target_id", "n_detections", "period_days", "period_significant", "period_alias"]
    table = pd.read_parquet(summary_path, columns=[c for c in wanted if c in names])
    chosen = nl_plots.select_targets(table, top_n)
    table = table[table["target_id"].isin(chosen)]
    outdir = Path(summary_path).parent
    lc = outputs.read_lightcurves(outdir, chosen)
    epochs = outputs.read_lightcurves(outdir, chosen, binned=True)
    with atomic.atomic_directory(output) as folder:
        written = nl_plots.plot_targets(
            lc, table, folder, "all", epochs, gap_days, flux_unit=flux_unit
        )
    log.info("%d figures in %s", len(written), output)
    return len(written)


def overview(summary_path: str, variability: str, sky: str) -> None:
    """Variability against brightness, and a sky map of the targets."""

    from . import plots as nl_plots

    table = pd.read_parquet(summary_path, columns=list(nl_plots.OVERVIEW_COLUMNS))
    nl_plots.overview_figures(table, variability, sky)
    log.info("wrote %s and %s", variability, sky)


def run_reads(
    cache_dir: str, shards, radius: str, years: list[str], side_key: str, output: str, table: str
) -> dict:
    """What every job that read the catalogue for this run's match files (and their columns
    files) read, from the records the files keep, as ``output`` (JSON) and ``table`` (TSV);
    returns the run's total."""
    names = {y: cache.used_names(shards, radius, [y], side_key) for y in years}
    caches = {y: [f"{cache_dir}/{n}" for n in sorted(names[y])] for y in years}
    total, per_year = reads.run_reads(caches)
    reads.write_run_reads(total, per_year, output, table)
    log.info("read by the match jobs: %s", total)
    return total


# ------------------------------------------------------------------------------ one job
class StageFailed(RuntimeError):
    """One or more of a one-job run's (year, shard) jobs failed; each is in the log."""


def _run_all(jobs: list, stage_params: dict[str, dict], threads: int) -> None:
    """Run ``jobs`` (``(stage, args, params name)``), ``threads`` at a time. A failure is
    logged with the job it belongs to (its output, the last of ``args``); jobs not yet started
    are then dropped, those running finish (their outputs are written atomically, so a later
    run reuses them), and one error names every failed job."""
    failed = []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = {
            pool.submit(stage, *args, **stage_params[name]): f"{name} {args[-1]}"
            for stage, args, name in jobs
        }
        for future in as_completed(futures):
            error = None if future.cancelled() else future.exception()
            if error is not None:
                log.error("%s failed: %s", futures[future], error, exc_info=error)
                failed.append(f"{futures[future]}: {type(error).__name__}: {error}")
                for other in futures:
                    other.cancel()
    if failed:
        raise StageFailed(f"{len(failed)} job(s) of the one job failed: " + "; ".join(failed))


def targets_and_manifest(outdir, source: str | None, stage_params: dict[str, dict]):
    """The rules targets and manifest in this process: ``{outdir}/targets.parquet`` and
    ``{outdir}/manifest/`` (:func:`make_targets`, :func:`make_manifest`) from the targets
    ``source`` (None: a VizieR query); returns the shards and groups."""
    out = Path(outdir)
    make_targets(source, f"{out}/targets.parquet", **stage_params["targets"])
    return make_manifest(
        f"{out}/targets.parquet",
        f"{out}/manifest/partitions.parquet",
        f"{out}/manifest/shards.tsv",
        f"{out}/manifest/groups.tsv",
        **stage_params["manifest"],
    )


def run_in_one_job(
    outdir: str,
    source: str | None,
    radius_tag: str,
    read_years: list[str],
    stage_params: dict[str, dict],
    *,
    per_target_index: bool,
    threads: int = 1,
) -> dict:
    """Every stage of a run, from the target list to the figures, in this process: what the
    rules do in separate jobs, with the same outputs under ``outdir`` and the same match cache
    files (so a later staged run, or a one-job run with more targets, reuses them), and what
    the run's match files were read with (``reads.json``, ``reads.tsv``; the costs rule's in a
    staged run).

    A match, columns or MEP cache file already present is reused, not read again: its name
    holds a digest of everything it depends on (:mod:`~neowise_lightcurves.cache`). The
    (year, shard) matches run ``threads`` at a time. Returns counts of what was done.
    """

    out = Path(outdir)
    p = stage_params
    shards, groups = targets_and_manifest(out, source, p)
    partitions = f"{out}/manifest/partitions.parquet"
    side_key = p["lightcurves"]["side_key"]
    todo, reused, paths = [], 0, {}
    for year in read_years:
        for s in shards:
            path = paths[year, s.shard] = cache.match_path(out, radius_tag, s, year)
            digest = cache.year_digest(s, year)
            if os.path.exists(path):
                reused += 1
            elif surveys.of(year).mep:
                todo.append((match_allwise, (partitions, s.shard, digest, path), "match_allwise"))
            else:
                todo.append((match, (partitions, year, s.shard, digest, path), "match"))

    # (loading matplotlib meanwhile, in a thread, slowed the matches more than it saved: the
    # import holds the GIL the threads that issue the reads need)
    _run_all(todo, p, threads)
    columns_todo = []
    for year, s in ((y, s) for y in read_years for s in shards):
        beside = cache.columns_path(out, radius_tag, s, year, side_key)
        if beside and not os.path.exists(beside):
            columns_todo.append((match_columns, (paths[year, s.shard], beside), "match_columns"))
    _run_all(columns_todo, p, threads)
    by_name = {s.shard: s for s in shards}
    pieces, folders = [], []
    for g in groups:
        reads_ = [(year, by_name[name]) for year in read_years for name in g.reads]
        found = (cache.columns_path(out, radius_tag, s, y, side_key) for y, s in reads_)
        piece = f"{out}/group_summaries/{g.group}.parquet"
        folder = f"{out}/per_target/{g.group}" if per_target_index else None
        lightcurves(
            partitions,
            g.group,
            [paths[y, s.shard] for y, s in reads_],
            [c for c in found if c],
            f"{out}/lightcurves.parquet/{g.group}.parquet",
            f"{out}/binned.parquet/{g.group}.parquet",
            piece,
            folder,
            **p["lightcurves"],
        )
        pieces.append(piece)
        folders.append(folder)
    index = f"{out}/{outputs.PER_TARGET}/{target_files.INDEX_NAME}" if per_target_index else None
    summary(pieces, [f for f in folders if f], f"{out}/summary.parquet", index)
    plots(f"{out}/summary.parquet", f"{out}/plots", **p["plots"])
    overview(f"{out}/summary.parquet", f"{out}/overview/variability.png", f"{out}/overview/sky.png")
    tables = (f"{out}/reads.json", f"{out}/reads.tsv")
    run_reads(f"{out}/cache", shards, radius_tag, list(read_years), side_key, *tables)
    done = {
        "matched": len(todo),
        "columns_read": len(columns_todo),
        "reused": reused,
        "groups": len(groups),
    }
    log.info("one job: %s", done)
    return done
