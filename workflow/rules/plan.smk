# `snakemake -c1 plan`: what a run will cost before paying for it (targets, partitions, jobs per
# year, and what the match jobs will read, estimated from listings and a sample of footers),
# in {outdir}/plan.txt. On the submitting host: it reads no data. A run in one job has no
# manifest before its job: the plan makes the targets and manifest in a scratch folder itself.


localrules:
    plan,


rule plan:
    input:
        unpack(plan_manifest_input),
        catalog=plan_catalog_input,
    output:
        f"{OUTDIR}/plan.txt",
    log:
        f"{LOGDIR}/plan.log",
    benchmark:
        f"{OUTDIR}/benchmarks/plan.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        years=YEARS,
        root=CATALOG_ROOT,
        s3=config["catalog"]["s3"],
        shard_order=config["match"]["shard_order"],
        radius_arcsec=config["match"]["radius_arcsec"],
        columns=CACHED_COLUMNS,
        cores=workflow.cores,
        allwise=ALLWISE,
        allwise_copy=ALLWISE_ROOT,
        one_job=ONE_JOB,
        stage_params=plan_stage_params(),
    script:
        "../../scripts/plan.py"
