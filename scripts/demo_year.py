"""Rule demo_year: write one year of the demo catalogue in IRSA's layout."""

from neowise_lightcurves import demo, logs

log = logs.to_file(snakemake.log[0])
path = demo.write_year(
    snakemake.params.root,
    snakemake.wildcards.year,
    seed=snakemake.params.seed,
    field_sources=snakemake.params.field_sources,
)
log.info("wrote %s", path)
