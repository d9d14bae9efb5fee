"""Checkpoint manifest: partitions touched by each target's cone, shards and their cache keys,
and the groups of targets whose light curves one job builds."""

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
out = snakemake.output
stages.make_manifest(snakemake.input[0], out.partitions, out.shards, out.groups, **snakemake.params)
