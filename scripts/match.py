"""Rule match: exact cone matches of one shard's targets in one year's partitions."""

import pandas as pd
import pyarrow as pa

from neowise_lightcurves import atomic, catalog, iocount, logs, manifest, matching, reads

log = logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))  # decode on the job's own cores, not all of them
p, w = snakemake.params, snakemake.wildcards
rows = pd.read_parquet(snakemake.input.partitions, filters=[("shard", "==", w.shard)])
manifest.check_digest(rows, w.shard, w.digest, p.radius_arcsec, tuple(p.columns), p.catalog_key)
# counting what it reads only where a benchmark asks (iocount.COUNT_BYTES_ENV)
cat = iocount.from_environment(catalog.open_catalog(p.root, s3=p.s3))
record = reads.ReadRecord()
table = matching.match_shard(
    cat, w.year, rows, p.radius_arcsec, tuple(p.columns), p.concurrent_partitions, record
)
table = reads.write_record(table, record)  # what this job read, kept with its output
# sorted by target, in small row groups: a light-curve job reads only its targets' rows
atomic.write_parquet(table, snakemake.output[0], row_group_size=matching.CACHE_ROW_GROUP_ROWS)
log.info(
    "%s %s: %d matches of %d targets", w.year, w.shard, table.num_rows, rows["target_id"].nunique()
)
log.info("read: %s", record.to_dict())
