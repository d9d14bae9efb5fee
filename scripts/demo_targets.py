"""Rule demo_targets: write the demo sky's target list."""

from neowise_lightcurves import demo, logs

log = logs.to_file(snakemake.log[0])
demo.write_targets(
    snakemake.output[0], seed=snakemake.params.seed, field_sources=snakemake.params.field_sources
)
log.info("wrote %s", snakemake.output[0])
