# The whole run, from the target list to the figures, in one job (one_job: true, or auto and a
# small targets file: where each job's start-up would cost more than its work). The same outputs
# and the same match cache files as the staged rules, so either kind of run reuses the other's.


rule one_job:
    input:
        targets=targets_input,
        catalog=plan_catalog_input,  # the demo's years, when the catalogue is the demo
        allwise=allwise_catalog_input if ALLWISE["enabled"] else [],
    output:
        **PER_TARGET_INDEX,
        **READS_OUTPUT,
        targets=f"{OUTDIR}/targets.parquet",
        partitions=f"{OUTDIR}/manifest/partitions.parquet",
        shards=f"{OUTDIR}/manifest/shards.tsv",
        groups=f"{OUTDIR}/manifest/groups.tsv",
        summary=f"{OUTDIR}/summary.parquet",
        plots=report(
            directory(f"{OUTDIR}/plots"),
            patterns=["{name}.png"],
            caption="../report/lightcurve.rst",
            category="Light curves",
        ),
        variability=report(
            f"{OUTDIR}/overview/variability.png",
            caption="../report/variability.rst",
            category="Overview",
        ),
        sky=report(
            f"{OUTDIR}/overview/sky.png",
            caption="../report/sky.rst",
            category="Overview",
        ),
    log:
        f"{LOGDIR}/one_job.log",
    benchmark:
        f"{OUTDIR}/benchmarks/one_job.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    threads: workflow.resource_settings.cores or 1  # every core of one machine (none given: 1)
    resources:
        # its matches run `threads` at a time (8 in profiles/slurm), each up to ~0.5 GB
        mem_mb=lambda wildcards, threads, attempt: max(3000, 600 * threads) * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,  # minutes
    params:
        outdir=lambda wildcards, output: os.path.dirname(output.summary),
        radius_tag=RADIUS,
        read_years=READ_YEARS,
        stage_params=STAGE_PARAMS,
    script:
        "../../scripts/one_job.py"
