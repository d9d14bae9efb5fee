"""Rule one_job: every stage of a run in this one job (one_job: true)."""

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
p = snakemake.params
stages.run_in_one_job(
    p.outdir,
    snakemake.input.targets[0] if snakemake.input.targets else None,  # none for VizieR
    p.radius_tag,
    list(p.read_years),
    p.stage_params,
    per_target_index="index" in snakemake.output.keys(),
    threads=snakemake.threads,
)
