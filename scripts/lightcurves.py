"""Rule lightcurves: one group's light curves, binned epochs, summary rows and per-target files."""

import pandas as pd
import pyarrow.parquet as pq

from neowise_lightcurves import cache, cuts, logs, merge, motion, target_files

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
matches = list(snakemake.input.matches)
# each NEOWISE match file's columns file (the cuts' and extra_columns' other columns), if any
made = set(snakemake.input.columns)
beside = {m: cache.columns_name(m, p.side_key) for m in matches} if p.side_key else {}
stats = merge.merge_group(
    matches,
    homes,
    outputs,
    p.cuts,
    p.binning,
    meta,
    group=w.group,
    association_options=dict(p.association),
    periods_options=p.periods if p.periods["enabled"] else None,
    columns_files={m: c for m, c in beside.items() if c in made},
)
log.info("%s: %s (cuts %r)", w.group, stats, p.cuts)
