# Which order-5 partitions each target's cone touches, and how they group into shards: one
# match job per (year, shard). A checkpoint: the match jobs are known only once it has run.


checkpoint manifest:
    input:
        f"{OUTDIR}/targets.parquet",
    output:
        partitions=f"{OUTDIR}/manifest/partitions.parquet",
        shards=f"{OUTDIR}/manifest/shards.tsv",
        groups=f"{OUTDIR}/manifest/groups.tsv",
    log:
        f"{LOGDIR}/manifest.log",
    benchmark:
        f"{OUTDIR}/benchmarks/manifest.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        **STAGE_PARAMS["manifest"],
    script:
        "../../scripts/manifest.py"
