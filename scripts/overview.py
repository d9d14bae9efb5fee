"""Rule overview: variability against brightness, and a sky map of the targets."""

import pandas as pd

from neowise_lightcurves import logs, plots

log = logs.to_file(snakemake.log[0])
summary = pd.read_parquet(snakemake.input.summary, columns=list(plots.OVERVIEW_COLUMNS))
plots.overview_figures(summary, snakemake.output.variability, snakemake.output.sky)
log.info("wrote %s and %s", snakemake.output.variability, snakemake.output.sky)
