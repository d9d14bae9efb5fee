# Epoch figures for the targets with most detections, and overview figures, all in the report.


rule plots:
    input:
        summary=f"{OUTDIR}/summary.parquet",
    output:
        report(
            directory(f"{OUTDIR}/plots"),
            patterns=["{name}.png"],
            caption="../report/lightcurve.rst",
            category="Light curves",
        ),
    log:
        f"{LOGDIR}/plots.log",
    benchmark:
        f"{OUTDIR}/benchmarks/plots.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        **STAGE_PARAMS["plots"],
    script:
        "../../scripts/plots.py"


rule overview:
    input:
        summary=f"{OUTDIR}/summary.parquet",
    output:
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
        f"{LOGDIR}/overview.log",
    benchmark:
        f"{OUTDIR}/benchmarks/overview.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    script:
        "../../scripts/overview.py"
