"""The workflow's steps in one Python process, for a handful of targets in a notebook.

:func:`fetch` runs what the workflow runs — the targets' checks, the partitions their cones
touch, the exact cone match of every year (the years read at once, each in a thread), the
cuts, the light curves' sort and de-duplication, and optionally the binning — with no
Snakemake, no job processes and no cache files, and returns astropy Tables. Its settings are
the workflow's: read from the workflow's ``config.yaml`` (the defaults, written once), updated
by the keyword arguments, and checked against the workflow's configuration schema.

For more than a few thousand targets, run the workflow: it caches every (year, shard) match,
reruns only what a change touches and bounds every job's memory; :func:`fetch` holds all of
its targets' detections at once.
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pyarrow as pa
import yaml

from . import (
    allwise_match,
    binning,
    catalog,
    cuts,
    lightcurves,
    manifest,
    matching,
    surveys,
    targets,
)
from . import config as nl_config
from .reads import ReadRecord


def settings(config: str | os.PathLike | dict | None = None, **overrides) -> dict:
    """The workflow's configuration, updated by ``overrides`` (fetch()'s keywords:
    :func:`neowise_lightcurves.config.keyword_paths`), and checked against its schema.

    Parameters
    ----------
    config : path or dict, optional
        A workflow ``config.yaml`` (or its contents); default: the workflow's defaults, as the
        package ships them (:func:`neowise_lightcurves.config.defaults`).

    Raises
    ------
    ValueError
        An unknown keyword, or a value the schema refuses (the message names the key).
    """
    if config is None:
        cfg = nl_config.defaults()
    elif isinstance(config, dict):
        cfg = copy.deepcopy(config)
    else:
        with open(config) as fh:
            cfg = yaml.safe_load(fh)
    paths = nl_config.keyword_paths()
    for name, value in overrides.items():
        if name not in paths:
            raise ValueError(f"fetch: unknown setting {name!r} (known: {', '.join(paths)})")
        *parents, key = paths[name]
        where = cfg
        for p in parents:
            where = where[p]
        if isinstance(value, dict) and isinstance(where.get(key), dict):
            value = {**where[key], **value}
        where[key] = value
    nl_config.validate(cfg, "fetch")
    return cfg


def _as_frame(table) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if hasattr(table, "to_pandas"):  # astropy Table
        return table.to_pandas()
    return pd.DataFrame(table)


def fetch(
    targets_table,
    *,
    binned: bool = False,
    config: str | os.PathLike | dict | None = None,
    record: ReadRecord | None = None,
    **options,
):
    """Light curves of a few targets, in this process.

    Parameters
    ----------
    targets_table : astropy.table.Table, pandas.DataFrame or dict of columns
        Targets with an id, RA and Dec (deg, ICRS), and optionally proper motions (mas/yr) and
        their epoch (Julian year), named as the workflow's ``targets.*_column`` settings say
        (default: the usual names, e.g. ``target_id``/``id``, ``ra``, ``dec``, ``pmra``).
    binned : bool
        Also bin the visits (the workflow's ``binning`` settings) and return both tables.
    config : path or dict, optional
        The workflow configuration to start from (default: the workflow's ``config.yaml``).
    record : ReadRecord, optional
        Added what was read from the catalogue (:mod:`neowise_lightcurves.reads`).
    **options
        Settings over the configuration's: ``years`` (e.g. ``[1, 2]``), ``root`` (a local
        copy, or :data:`neowise_lightcurves.catalog.IRSA_ROOT`), ``s3`` (updates
        ``catalog.s3``), ``radius_arcsec``, ``cuts``, ``extra_columns``,
        ``concurrent_partitions``, ``binning`` (a dict), ``id_column``, ``ra_column``,
        ``dec_column``, ``duplicate_ids``, ``sexagesimal``, ``proper_motion``,
        ``pmra_column``, ``pmdec_column``, ``epoch_column``, ``pm_epoch``, ``allwise_mep``
        (updates ``catalog.allwise_mep``: ``{"enabled": True}`` adds WISE's 2010-2011
        exposures through IRSA's TAP service, ``"source"`` a local copy's root instead).

    Returns
    -------
    astropy.table.Table, or (Table, Table) with ``binned``
        The light curves (one row per target and detection passing the cuts, sorted by target
        and time, units and provenance in ``meta``), as the workflow's ``lightcurves.parquet``
        holds them; with ``binned``, also the binned epochs as ``binned.parquet`` holds them.

    Examples
    --------
    >>> from neowise_lightcurves import catalog, fetch
    >>> lc = fetch({"target_id": ["a"], "ra": [150.1], "dec": [2.2]}, years=[1, 2],
    ...            radius_arcsec=2.0, root=catalog.IRSA_ROOT)  # doctest: +SKIP
    """
    from .target_files import provenance, to_table

    cfg = settings(config, **options)
    if cfg["catalog"]["root"] == "demo":
        raise ValueError(
            "fetch: root is 'demo', which the workflow builds; give a catalogue root (a local "
            "copy such as results/demo/catalog after a demo run, or catalog.IRSA_ROOT)"
        )
    t = cfg["targets"]
    frame = targets.normalize_with(_as_frame(targets_table), t, cfg["match"]["proper_motion"])
    m = cfg["match"]
    radius = float(m["radius_arcsec"])
    resolved = nl_config.resolve(cfg)  # as the workflow's rules work it out
    cached = resolved.cached_columns
    mep = cfg["catalog"]["allwise_mep"]
    mep_source = resolved.allwise_source
    if mep["enabled"] and mep_source == "demo":
        raise ValueError(
            "fetch: allwise_mep source 'demo' is the workflow's; give its root (a local copy "
            "such as results/demo/catalog after a demo run) or 'tap'"
        )
    read_years = list(resolved.read_years)
    # years=None: proper motions ignored (match.proper_motion: false)
    motion_years = read_years if m["proper_motion"] else None
    rows = manifest.target_partitions(frame, radius, m["shard_order"], None, years=motion_years)
    root = cfg["catalog"]["root"]
    cat = catalog.open_catalog(root, s3=cfg["catalog"]["s3"])

    def one_year(year):
        return matching.match_shard(
            cat, year, rows, radius, cached, m["concurrent_partitions"], record
        )

    def one_of(year):
        if not surveys.of(year).mep:
            return one_year(year)
        return allwise_match.match(
            rows,
            radius,
            cached,
            mep,
            root=None if mep_source == "tap" else mep_source,
            s3=cfg["catalog"]["s3"],
            concurrent_partitions=m["concurrent_partitions"],
            what="AllWISE MEP for fetch()",
            record=record,
        )

    with ThreadPoolExecutor(max_workers=max(1, len(read_years))) as pool:
        tables = list(pool.map(one_of, read_years))
    matches = pa.concat_tables(tables, promote_options="permissive")
    matches = allwise_match.drop_repeated_exposures(matches)
    b = cfg["binning"]
    lc = lightcurves.build_lightcurves(matches, frame, m["cuts"], gap_days=b["gap_days"])
    lc = lc.to_pandas()
    meta = provenance(root, read_years, radius, m["cuts"], cuts.expression(m["cuts"]))
    out = to_table(lc, meta)
    if not binned:
        return out
    epochs = binning.bin_visits(lc, b["gap_days"], b["sigma"], b["iterations"])
    return out, to_table(epochs, meta)
