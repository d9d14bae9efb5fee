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
    log:
        f"{LOGDIR}/plots.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        top_n=config.get("plots", {}).get("top_n", 20),
    script:
        "../../scripts/plots.py"
