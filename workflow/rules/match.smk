# One job per (year, shard): cone matches of the shard's targets in that year's partitions.
# The output name carries the radius and a digest of the shard's targets, radius, columns and
# catalogue, so a changed target list reruns only the shards it touches, and going back to an
# earlier radius reuses its files. The manifest is `ancient`: rewriting it reruns nothing by
# itself.


rule match:
    input:
        partitions=ancient(f"{OUTDIR}/manifest/partitions.parquet"),
        catalog=match_catalog_input,
    output:
        f"{OUTDIR}/cache/{MATCH_FILE}.parquet",
    log:
        f"{LOGDIR}/{MATCH_RULE}/{MATCH_FILE}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{MATCH_RULE}/{MATCH_FILE}.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    threads: config["match"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 1500 * attempt,  # more on a retry
        runtime=lambda wildcards, attempt: 60 * attempt,  # minutes
    params:
        **STAGE_PARAMS["match"],
    script:
        "../../scripts/match.py"


# The columns the cuts and match.extra_columns name beyond a match job's own, read for its
# matches only (no matching again: the catalogue rows are where the match file says), kept
# beside it row for row; a new cut that needs a column reads only that column.
rule match_columns:
    input:
        matches=f"{OUTDIR}/cache/{MATCH_FILE}.parquet",
    output:
        f"{OUTDIR}/cache/{COLUMNS_FILE}.parquet",
    log:
        f"{LOGDIR}/{COLUMNS_RULE}/{COLUMNS_FILE}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{COLUMNS_RULE}/{COLUMNS_FILE}.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    threads: config["match"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 1500 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,  # minutes
    params:
        **STAGE_PARAMS["match_columns"],
    script:
        "../../scripts/match_columns.py"


# One job per shard for the AllWISE Multiepoch Photometry (2010-2011; catalog.allwise_mep),
# its cache named like a year's ("allwise") with a key that also holds the MEP's source. Through
# TAP the job mostly waits on the service, so it runs on the submitting host (which reaches the
# internet where a cluster's compute nodes may not), and `irsa_tap` (see the profiles) bounds
# how many run at once.
if ALLWISE_SOURCE == "tap":

    localrules:
        match_allwise,


rule match_allwise:
    input:
        partitions=ancient(f"{OUTDIR}/manifest/partitions.parquet"),
        catalog=allwise_catalog_input,
    output:
        f"{OUTDIR}/cache/{MEP_FILE}.parquet",
    log:
        f"{LOGDIR}/{MEP_RULE}/{MEP_FILE}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/{MEP_RULE}/{MEP_FILE}.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 1500 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,  # minutes: the service's queue
        irsa_tap=lambda wildcards: 0 if ALLWISE_ROOT else 1,
    params:
        **STAGE_PARAMS["match_allwise"],
    script:
        "../../scripts/match_allwise.py"
