"""Rule demo_allwise: write the demo's copy of the AllWISE Multiepoch Photometry."""

from neowise_lightcurves import demo, logs

log = logs.to_file(snakemake.log[0])
path = demo.write_allwise(
    snakemake.params.root,
    seed=snakemake.params.seed,
    field_sources=snakemake.params.field_sources,
)
log.info("wrote %s", path)
