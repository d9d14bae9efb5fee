"""Rule match_allwise: one shard's targets in the AllWISE MEP, through TAP or a local copy."""

import pandas as pd
import pyarrow as pa

from neowise_lightcurves import allwise, atomic, catalog, logs, matching, reads

log = logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))
p, w = snakemake.params, snakemake.wildcards
rows = pd.read_parquet(snakemake.input.partitions, filters=[("shard", "==", w.shard)])
allwise.check_digest(rows, w.shard, w.digest, p.radius_arcsec, tuple(p.columns), p.allwise_key)
record = reads.ReadRecord()
if p.root is None:  # IRSA's TAP service (or another)
    tap = p.tap
    table = allwise.match_tap(
        rows,
        p.radius_arcsec,
        tuple(p.columns),
        tap_url=tap["tap_url"],
        table=tap["table"],
        max_upload_rows=tap["max_upload_rows"],
        attempts=tap["attempts"],
        backoff_s=tap["backoff_s"],
        job_timeout_s=tap["job_timeout_s"],
        what=f"AllWISE MEP for shard {w.shard}",
    )
else:  # a local copy in the NEOWISE layout (the demo's)
    cat = catalog.open_catalog(p.root, s3=p.s3)
    table = allwise.match_local(
        cat, rows, p.radius_arcsec, tuple(p.columns), p.concurrent_partitions, record
    )
table = reads.write_record(table, record)
atomic.write_parquet(table, snakemake.output[0], row_group_size=matching.CACHE_ROW_GROUP_ROWS)
log.info(
    "allwise %s: %d exposures of %d targets", w.shard, table.num_rows, rows["target_id"].nunique()
)
