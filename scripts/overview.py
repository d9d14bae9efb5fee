"""Rule overview: variability against brightness, and a sky map of the targets."""

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
out = snakemake.output
stages.overview(snakemake.input.summary, out.variability, out.sky)
