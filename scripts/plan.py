"""Rule plan: targets, partitions, jobs per year and what the match jobs will read."""

import tempfile
from pathlib import Path

import pandas as pd

from neowise_lightcurves import allwise, atomic, catalog, estimates, logs, manifest, ranged, stages

log = logs.to_file(snakemake.log[0])
p = snakemake.params
columns = ["target_id", "ra", "dec", "k5", "shard"]
if "shards" in snakemake.input.keys():  # the manifest rule's
    shards = manifest.read_shards(snakemake.input.shards)
    groups = manifest.read_groups(snakemake.input.groups)
    rows = pd.read_parquet(snakemake.input.partitions, columns=columns)
else:  # a run in one job: its targets and manifest made here, in a scratch folder
    targets = snakemake.input.targets[0] if snakemake.input.targets else None  # None: VizieR
    outdir = Path(snakemake.output[0]).parent
    with tempfile.TemporaryDirectory(prefix=".plan-", dir=outdir) as scratch:
        shards, groups = stages.targets_and_manifest(scratch, targets, p.stage_params)
        rows = pd.read_parquet(f"{scratch}/manifest/partitions.parquet", columns=columns)
cat = catalog.open_catalog(p.root, s3=p.s3)
per_year = {
    year: estimates.estimate_year(cat, year, rows, p.radius_arcsec, p.columns, len(shards))
    for year in p.years
}
reads_text = estimates.estimate_text(
    per_year, p.cores * min(ranged.FETCH_THREADS, ranged.S3_CONNECTIONS)
)
n_targets = rows["target_id"].nunique()
text = manifest.plan_text(
    shards, groups, n_targets, list(p.years), p.shard_order, reads_text, one_job=p.one_job
)
if p.allwise["enabled"]:  # catalog.allwise_mep: its jobs and queries
    where = {"copy": p.allwise_copy} if p.allwise_copy else {"tap_url": p.allwise["tap_url"]}
    text += "\n" + allwise.plan_text(shards, max_upload_rows=p.allwise["max_upload_rows"], **where)
with atomic.atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(text)
log.info("plan:\n%s", text)
print(text)
