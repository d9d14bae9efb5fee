"""Rule lightcurves: merge the cached matches, apply the cuts, summarise each target."""

import pandas as pd

from neowise_lightcurves import atomic, lightcurves, logs

log = logs.to_file(snakemake.log[0])
targets = pd.read_parquet(snakemake.input.targets)
matches = lightcurves.read_matches(snakemake.input.matches)
matches = matches[matches["target_id"].isin(targets["target_id"])]
before = matches.drop_duplicates(["target_id", "cntr"]).groupby("target_id").size()
lc = lightcurves.build_lightcurves(matches, targets, snakemake.params.cuts)
summary = lightcurves.summarize(lc, targets, n_before_cuts=before)
meta = {"cuts": snakemake.params.cuts}
atomic.write_frame(lc, snakemake.output.lightcurves, metadata=meta)
atomic.write_frame(summary, snakemake.output.summary, metadata=meta)
log.info(
    "%d detections of %d/%d targets after cuts %r",
    len(lc),
    (summary["n_detections"] > 0).sum(),
    len(summary),
    snakemake.params.cuts,
)
