"""Rule plan: targets, partitions, jobs per year and, for a local catalogue, bytes."""

import pandas as pd

from neowise_lightcurves import atomic, catalog, logs, manifest

log = logs.to_file(snakemake.log[0])
p = snakemake.params
shards = manifest.read_shards(snakemake.input.shards)
groups = manifest.read_groups(snakemake.input.groups)
n_targets = pd.read_parquet(snakemake.input.partitions, columns=["target_id"])[
    "target_id"
].nunique()
sizes = None
if "://" not in p.root:  # local: listing the partitions costs nothing
    partitions = sorted({k for s in shards for k in s.partitions})
    sizes = catalog.file_sizes(catalog.open_catalog(p.root), list(p.years), partitions)
text = manifest.plan_text(shards, groups, n_targets, list(p.years), p.shard_order, sizes)
with atomic.atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(text)
log.info("plan:\n%s", text)
print(text)
