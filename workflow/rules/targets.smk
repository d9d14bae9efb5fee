# The target list: the demo's, the user's own table, or a VizieR query over TAP.


rule targets:
    input:
        targets_input,
    output:
        f"{OUTDIR}/targets.parquet",
    params:
        targets=config["targets"],
    log:
        f"{LOGDIR}/targets.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    script:
        "../../scripts/targets.py"
