# One job per group of targets (the targets whose positions lie in one HEALPix pixel, split
# where dense): their light curves, from the match caches of every shard their cones touch,
# with the cuts applied here (so that changing them never re-reads the catalogue), the visits
# binned, one summary row per target and, optionally, one file per target. Then the summary
# rows in one file, with the index of the per-target files.


rule lightcurves:
    input:
        partitions=ancient(f"{OUTDIR}/manifest/partitions.parquet"),
        matches=lightcurve_inputs,
        columns=lightcurve_column_inputs,
    output:
        **PER_TARGET_OUTPUT,
        lightcurves=f"{OUTDIR}/lightcurves.parquet/{{group}}.parquet",
        binned=f"{OUTDIR}/binned.parquet/{{group}}.parquet",
        summary=f"{OUTDIR}/group_summaries/{{group}}.parquet",
    log:
        f"{LOGDIR}/lightcurves/{{group}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/lightcurves/{{group}}.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,  # more on a retry
    params:
        **STAGE_PARAMS["lightcurves"],
    script:
        "../../scripts/lightcurves.py"


rule summary:
    input:
        pieces=summary_pieces,
        per_target=per_target_folders,
    output:
        **PER_TARGET_INDEX,
        summary=f"{OUTDIR}/summary.parquet",
    log:
        f"{LOGDIR}/summary.log",
    benchmark:
        f"{OUTDIR}/benchmarks/summary.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    script:
        "../../scripts/summary.py"
