"""Rule match: exact cone matches of one shard's targets in one year's partitions."""

import pyarrow as pa

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))  # decode on the job's own cores, not all of them
w = snakemake.wildcards
where = (snakemake.input.partitions, w.year, w.shard, w.digest, snakemake.output[0])
stages.match(*where, **snakemake.params)
