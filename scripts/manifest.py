"""Checkpoint manifest: partitions touched by each target's cone, shards and their cache keys,
and the groups of targets whose light curves one job builds."""

import pandas as pd
import pyarrow.parquet as pq

from neowise_lightcurves import allwise, atomic, logs, manifest, motion

log = logs.to_file(snakemake.log[0])
p = snakemake.params
# proper motions too, when the targets have them and match.proper_motion is on
kept = ["target_id", "ra", "dec"] + (list(motion.COLUMNS) if p.proper_motion else [])
names = pq.read_schema(snakemake.input[0]).names
targets = pd.read_parquet(snakemake.input[0], columns=[c for c in kept if c in names])
rows = manifest.target_partitions(
    targets,
    p.radius_arcsec,
    p.shard_order,
    p.max_shard_targets,
    years=p.years,
    max_shard_partitions=p.max_shard_partitions,
)
allwise_key = None if p.allwise_key is None else allwise.digest_key(p.allwise_key)
shards = manifest.shards(
    rows, p.radius_arcsec, tuple(p.columns), p.catalog_key, allwise_key, tuple(p.allwise_columns)
)
groups = manifest.groups(rows)
# small row groups: each match and light-curve job reads only its own rows
atomic.write_frame(rows, snakemake.output.partitions, row_group_size=manifest.ROW_GROUP_ROWS)
manifest.write_shards(snakemake.output.shards, shards)
manifest.write_groups(snakemake.output.groups, groups)
log.info(
    "%d targets touch %d order-5 partitions in %d shards (order %d to 5; -1: the whole sky) "
    "and lie in %d groups (at most %d targets to a shard or group above order 5)",
    len(targets),
    rows["k5"].nunique(),
    len(shards),
    p.shard_order,
    len(groups),
    p.max_shard_targets,
)
