"""Rule lightcurves: one group's light curves, binned epochs, summary rows and per-target files."""

import pandas as pd
import pyarrow.parquet as pq

from neowise_lightcurves import cuts, logs, merge, motion, target_files

log = logs.to_file(snakemake.log[0])
p, w, out = snakemake.params, snakemake.wildcards, snakemake.output
partitions = snakemake.input.partitions
moving = set(motion.COLUMNS) <= set(pq.read_schema(partitions).names)  # when targets move
homes = pd.read_parquet(
    partitions,
    columns=["target_id", "ra", "dec", *(motion.COLUMNS if moving else ())],
    filters=[("group", "==", w.group), ("home", "==", True)],
)
meta = target_files.provenance(p.root, p.years, p.radius_arcsec, p.cuts, cuts.expression(p.cuts))
outputs = merge.Outputs(
    out.lightcurves, out.binned, out.summary, out.get("per_target"), tuple(p.formats)
)
stats = merge.merge_group(
    list(snakemake.input.matches),
    homes,
    outputs,
    p.cuts,
    p.binning,
    meta,
    group=w.group,
    association_options=dict(p.association),
    periods_options=p.periods if p.periods["enabled"] else None,
)
log.info("%s: %s (cuts %r)", w.group, stats, p.cuts)
