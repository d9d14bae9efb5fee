"""Rule match_allwise: one shard's targets in the AllWISE MEP, through TAP or a local copy."""

import pandas as pd
import pyarrow as pa

from neowise_lightcurves import allwise, atomic, logs, matching, reads

log = logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))
p, w = snakemake.params, snakemake.wildcards
rows = pd.read_parquet(snakemake.input.partitions, filters=[("shard", "==", w.shard)])
allwise.check_digest(rows, w.shard, w.digest, p.radius_arcsec, tuple(p.columns), p.allwise_key)
record = reads.ReadRecord()
table = allwise.match(  # IRSA's TAP service, or a local copy (the demo's) when root is set
    rows,
    p.radius_arcsec,
    tuple(p.columns),
    p.tap,
    root=p.root,
    s3=p.s3,
    concurrent_partitions=p.concurrent_partitions,
    what=f"AllWISE MEP for shard {w.shard}",
    record=record,
)
table = reads.write_record(table, record)
atomic.write_parquet(table, snakemake.output[0], row_group_size=matching.CACHE_ROW_GROUP_ROWS)
log.info(
    "allwise %s: %d exposures of %d targets", w.shard, table.num_rows, rows["target_id"].nunique()
)
