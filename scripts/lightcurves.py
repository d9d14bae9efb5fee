"""Rule lightcurves: merge the cached matches, apply the cuts, bin the visits, summarise."""

from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from neowise_lightcurves import atomic, binning, cuts, lightcurves, logs, summary, target_files

log = logs.to_file(snakemake.log[0])
p = snakemake.params
targets = pd.read_parquet(snakemake.input.targets)
matches = lightcurves.read_matches(snakemake.input.matches)
# build_lightcurves keeps only the targets' matches; summarize counts only the targets
before = matches.drop_duplicates(["target_id", "cntr"]).groupby("target_id").size()
lc = lightcurves.build_lightcurves(matches, targets, p.cuts)
meta = target_files.provenance(p.root, p.years, p.radius_arcsec, p.cuts, cuts.expression(p.cuts))
# the light curves are written (Parquet encoding, which releases the GIL) while they are binned
with ThreadPoolExecutor(1) as pool:
    written = pool.submit(atomic.write_frame, lc, snakemake.output.lightcurves, metadata=meta)
    b = p.binning
    binned = binning.bin_visits(lc, b["gap_days"], b["sigma"], b["iterations"])
    table = summary.summarize(lc, targets, binned, n_before_cuts=before)
    atomic.write_frame(binned, snakemake.output.binned, metadata=meta)
    atomic.write_frame(table, snakemake.output.summary, metadata=meta)
    written.result()
log.info(
    "%d detections in %d epochs of %d/%d targets after cuts %r",
    len(lc),
    len(binned),
    (table["n_detections"] > 0).sum(),
    len(table),
    p.cuts,
)
