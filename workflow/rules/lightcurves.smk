# Merge the cached matches of every year and shard into light curves, applying the cuts here
# (so that changing them never re-reads the catalogue), and summarise each target.


rule lightcurves:
    input:
        targets=f"{OUTDIR}/targets.parquet",
        matches=match_outputs,
    output:
        lightcurves=f"{OUTDIR}/lightcurves.parquet",
        summary=f"{OUTDIR}/summary.parquet",
    log:
        f"{LOGDIR}/lightcurves.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    resources:
        mem_mb=4000,
    params:
        cuts=config["match"].get("cuts", ""),
    script:
        "../../scripts/lightcurves.py"
