"""Rule lightcurves: one group's light curves, binned epochs, summary rows and per-target files."""

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
i, out = snakemake.input, snakemake.output
stages.lightcurves(
    i.partitions,
    snakemake.wildcards.group,
    list(i.matches),
    list(i.columns),
    out.lightcurves,
    out.binned,
    out.summary,
    out.get("per_target"),
    **snakemake.params,
)
