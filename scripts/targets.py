"""Rule targets: read, validate and store the target list."""

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
source = snakemake.input[0] if snakemake.input else None  # none for a VizieR query
stages.make_targets(source, snakemake.output[0], **snakemake.params)
