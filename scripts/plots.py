"""Rule plots: epoch figures of the targets with most detections."""

import pandas as pd

from neowise_lightcurves import atomic, logs, plots

log = logs.to_file(snakemake.log[0])
lc = pd.read_parquet(snakemake.input.lightcurves)
binned = pd.read_parquet(snakemake.input.binned)
summary = pd.read_parquet(snakemake.input.summary)
with atomic.atomic_directory(snakemake.output[0]) as folder:
    written = plots.plot_targets(lc, summary, folder, snakemake.params.top_n, binned)
log.info("%d figures in %s", len(written), snakemake.output[0])
