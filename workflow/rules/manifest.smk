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
        radius_arcsec=config["match"]["radius_arcsec"],
        proper_motion=config["match"]["proper_motion"],
        years=READ_YEARS,  # a moving target's cone is widened by what it moves over them
        shard_order=config["match"]["shard_order"],
        max_shard_targets=config["match"]["max_shard_targets"],
        max_shard_partitions=config["match"]["max_shard_partitions"],
        columns=BASE_COLUMNS,  # a NEOWISE match job's; the MEP's jobs take every column
        allwise_columns=CACHED_COLUMNS,
        catalog_key=CATALOG_KEY,
        allwise_key=ALLWISE_KEY,  # the AllWISE MEP's source: its jobs' cache keys
    script:
        "../../scripts/manifest.py"
