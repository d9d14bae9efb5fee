"""Rule target_files: one raw and one binned file per target, in each configured format."""

import pandas as pd
import pyarrow.parquet as pq

from neowise_lightcurves import atomic, logs, target_files

log = logs.to_file(snakemake.log[0])
lc = pd.read_parquet(snakemake.input.lightcurves)
binned = pd.read_parquet(snakemake.input.binned)
meta = {
    k.decode(): v.decode()
    for k, v in pq.read_schema(snakemake.input.lightcurves).metadata.items()
    if not k.startswith(b"pandas")
}
with atomic.atomic_directory(snakemake.output[0]) as folder:
    written = target_files.write_target_files(lc, binned, folder, snakemake.params.formats, meta)
log.info("%d files in %s", len(written), snakemake.output[0])
