"""Rule plots: epoch figures of the targets with most detections (only their rows are read)."""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from neowise_lightcurves import atomic, logs, outputs, plots

log = logs.to_file(snakemake.log[0])
names = pq.read_schema(snakemake.input.summary).names
wanted = ["target_id", "n_detections", "period_days", "period_significant", "period_alias"]
summary = pd.read_parquet(snakemake.input.summary, columns=[c for c in wanted if c in names])
chosen = plots.select_targets(summary, snakemake.params.top_n)
summary = summary[summary["target_id"].isin(chosen)]
outdir = Path(snakemake.input.summary).parent
lc = outputs.read_lightcurves(outdir, chosen)
binned = outputs.read_lightcurves(outdir, chosen, binned=True)
with atomic.atomic_directory(snakemake.output[0]) as folder:
    written = plots.plot_targets(
        lc,
        summary,
        folder,
        "all",
        binned,
        snakemake.params.gap_days,
        flux_unit=snakemake.params.flux_unit,
    )
log.info("%d figures in %s", len(written), snakemake.output[0])
