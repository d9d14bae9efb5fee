# `snakemake -c1 plan`: what a run will cost before paying for it (targets, partitions, jobs per
# year, and, for a local catalogue, the bytes of the files involved), in {outdir}/plan.txt.
# On the submitting host: it costs next to nothing.


localrules:
    plan,


rule plan:
    input:
        shards=f"{OUTDIR}/manifest/shards.tsv",
        groups=f"{OUTDIR}/manifest/groups.tsv",
        partitions=f"{OUTDIR}/manifest/partitions.parquet",
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
        shard_order=config["match"]["shard_order"],
    script:
        "../../scripts/plan.py"
