# Merge the cached matches of every year and shard into light curves, applying the cuts here
# (so that changing them never re-reads the catalogue), bin the visits and summarise each
# target; optionally one file per target.


rule lightcurves:
    input:
        targets=f"{OUTDIR}/targets.parquet",
        matches=match_outputs,
    output:
        lightcurves=f"{OUTDIR}/lightcurves.parquet",
        binned=f"{OUTDIR}/binned.parquet",
        summary=f"{OUTDIR}/summary.parquet",
    log:
        f"{LOGDIR}/lightcurves.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    threads: 2  # writing the light curves overlaps binning them
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,  # more on a retry
    params:
        cuts=config["match"]["cuts"],
        binning=config["binning"],
        root=config["catalog"]["root"],
        years=YEARS,
        radius_arcsec=config["match"]["radius_arcsec"],
    script:
        "../../scripts/lightcurves.py"


rule target_files:
    input:
        lightcurves=f"{OUTDIR}/lightcurves.parquet",
        binned=f"{OUTDIR}/binned.parquet",
    output:
        directory(f"{OUTDIR}/per_target"),
    log:
        f"{LOGDIR}/target_files.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        formats=config["outputs"]["per_target_formats"],
    script:
        "../../scripts/target_files.py"
