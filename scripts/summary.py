"""Rule summary: the groups' summary rows in one file, and the index of the per-target files;
files of groups no longer in the manifest are removed."""

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
i, out = snakemake.input, snakemake.output
stages.summary(list(i.pieces), list(i.per_target), out.summary, out.get("index"))
