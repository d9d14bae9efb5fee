"""Rule summary: the shards' summary rows in one file, and the index of the per-target files;
files of shards no longer in the manifest are removed."""

from pathlib import Path

from neowise_lightcurves import logs, outputs

log = logs.to_file(snakemake.log[0])
out = snakemake.output
pieces = list(snakemake.input.pieces)
n = outputs.concat_parquet(pieces, out.summary)
shards = {Path(p).stem for p in pieces}
folders = [Path(out.summary).parent / k for k in outputs.SHARD_FOLDERS]
if "index" in out.keys():
    files = outputs.gather_target_index(
        {Path(f).name: f for f in snakemake.input.per_target}, out.index
    )
    log.info("%d per-target files -> %s", files, out.index)
    folders.append(Path(out.index).parent)
for folder in folders:
    for path in outputs.remove_stale(folder, shards):
        log.info("removed %s (its shard is no longer in the manifest)", path)
log.info("%d targets from %d shards -> %s", n, len(pieces), out.summary)
