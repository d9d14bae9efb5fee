# Epoch figures for the targets with most detections, registered in the Snakemake report.


rule plots:
    input:
        lightcurves=f"{OUTDIR}/lightcurves.parquet",
        summary=f"{OUTDIR}/summary.parquet",
    output:
        report(
            directory(f"{OUTDIR}/plots"),
            patterns=["{name}.png"],
            caption="../report/lightcurve.rst",
            category="Light curves",
        ),
    params:
        top_n=config.get("plots", {}).get("top_n", 20),
    log:
        f"{LOGDIR}/plots.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    script:
        "../../scripts/plots.py"
