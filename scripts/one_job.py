"""Rule one_job: every stage of a run in this one job (``one_job``: true, or auto for a small
targets file)."""

import pyarrow as pa

from neowise_lightcurves import logs, stages

logs.to_file(snakemake.log[0])
pa.set_cpu_count(max(1, snakemake.threads))  # decode on the job's own cores
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
