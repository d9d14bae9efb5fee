"""Rule match_allwise: one shard's targets in the AllWISE MEP, through TAP or a local copy."""

import pyarrow as pa

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))
w = snakemake.wildcards
where = (snakemake.input.partitions, w.shard, w.digest, snakemake.output[0])
stages.match_allwise(*where, **snakemake.params)
