"""Rule match_columns: the cuts' and extra_columns' columns for one match file's matches."""

import pyarrow as pa

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))
stages.match_columns(snakemake.input.matches, snakemake.output[0], **snakemake.params)
