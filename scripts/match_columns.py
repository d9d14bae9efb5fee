"""Rule match_columns: the cuts' and extra_columns' columns for one match file's matches."""

import pyarrow as pa
import pyarrow.parquet as pq

from neowise_lightcurves import atomic, catalog, columns, iocount, logs, matching, reads

log = logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))
p = snakemake.params
locations = pq.read_table(snakemake.input.matches, columns=["cntr", *columns.LOCATION_COLUMNS])
cat = iocount.from_environment(catalog.open_catalog(p.root, s3=p.s3))
record = reads.ReadRecord()
table = matching.read_at(cat, locations, tuple(p.columns), p.concurrent_partitions, record)
# cntr beside them: the light-curve jobs check that the rows line up
table = reads.write_record(table.add_column(0, "cntr", locations["cntr"]), record)
atomic.write_parquet(table, snakemake.output[0], row_group_size=matching.CACHE_ROW_GROUP_ROWS)
log.info("%d rows, columns %s; read: %s", table.num_rows, list(p.columns), record.to_dict())
