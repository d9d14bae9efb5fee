# `snakemake prune_cache`: remove the match cache files (and their jobs' logs and cost records)
# that the current manifest does not use: earlier radii, target lists, catalogues and years. It
# lists what it removes and the bytes freed. Never part of a run.


localrules:
    prune_cache,


rule prune_cache:
    input:
        shards=f"{OUTDIR}/manifest/shards.tsv",
    log:
        f"{LOGDIR}/prune_cache.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        radius=RADIUS,
        years=READ_YEARS,
        side_key=SIDE_KEY,
    script:
        "../../scripts/prune_cache.py"
