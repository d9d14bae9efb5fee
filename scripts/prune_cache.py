"""Rule prune_cache: remove the match cache files the current manifest does not use."""

from pathlib import Path

from neowise_lightcurves import cache, logs, manifest

log = logs.to_file(snakemake.log[0])
p = snakemake.params
shards = manifest.read_shards(snakemake.input.shards)
used = cache.used_names(shards, p.radius, p.years, p.side_key)
pruned = cache.prune(Path(snakemake.input.shards).parents[1], used)  # outdir/manifest/...
for path in pruned.files:
    log.info("removed %s", path)
log.info(
    "removed %d files, freed %.1f MB; kept the %d cache files the manifest uses",
    len(pruned.files),
    pruned.bytes / 1e6,
    pruned.kept,
)
