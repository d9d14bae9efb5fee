"""Rule summary: the groups' summary rows in one file, and the index of the per-target files;
files of groups no longer in the manifest are removed."""

from pathlib import Path

from neowise_lightcurves import logs, outputs

log = logs.to_file(snakemake.log[0])
out = snakemake.output
pieces = list(snakemake.input.pieces)
n = outputs.concat_parquet(pieces, out.summary)
per_target = "index" in out.keys()
if per_target:
    folders = {Path(f).name: f for f in snakemake.input.per_target}
    files = outputs.gather_target_index(folders, out.index)
    log.info("%d per-target files -> %s", files, out.index)
groups = [Path(p).stem for p in pieces]
for path in outputs.remove_stale_groups(Path(out.summary).parent, groups, per_target):
    log.info("removed %s (its group is no longer in the manifest)", path)
log.info("%d targets from %d groups -> %s", n, len(pieces), out.summary)
