"""Rule match: exact cone matches of one shard's targets in one year's partitions."""

import pandas as pd
import pyarrow as pa

from neowise_lightcurves import atomic, catalog, logs, manifest, matching

log = logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))  # decode on the job's own cores, not all of them
p, w = snakemake.params, snakemake.wildcards
rows = pd.read_parquet(snakemake.input.partitions, filters=[("shard", "==", w.shard)])
digest = manifest.shard_digest(rows, p.radius_arcsec, tuple(p.columns), p.catalog_key)
if digest != w.digest:
    raise RuntimeError(
        f"shard {w.shard}: the manifest's targets give cache key {digest}, not {w.digest}; "
        "the manifest changed under this job: rerun the workflow"
    )
s3 = p.s3 or {}
cat = catalog.open_catalog(
    p.root,
    anonymous=s3.get("anonymous", True),
    region=s3.get("region", catalog.IRSA_REGION),
    endpoint_override=s3.get("endpoint_override"),
    scheme=s3.get("scheme"),
    retries=s3.get("retries", 6),
)
table = matching.match_shard(
    cat, w.year, rows, p.radius_arcsec, tuple(p.columns), p.concurrent_reads
)
# sorted by target, in small row groups: a light-curve job reads only its targets' rows
atomic.write_parquet(table, snakemake.output[0], row_group_size=matching.CACHE_ROW_GROUP_ROWS)
log.info(
    "%s %s: %d matches of %d targets", w.year, w.shard, table.num_rows, rows["target_id"].nunique()
)
