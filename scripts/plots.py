"""Rule plots: epoch figures of the targets with most detections (only their rows are read)."""

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
stages.plots(snakemake.input.summary, snakemake.output[0], **snakemake.params)
