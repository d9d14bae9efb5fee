# The target list: the demo's, the user's own table, or a VizieR query over TAP (on the
# submitting host: cluster nodes often have no internet, and the job costs next to nothing).


localrules:
    targets,


rule targets:
    input:
        targets_input,
    output:
        f"{OUTDIR}/targets.parquet",
    log:
        f"{LOGDIR}/targets.log",
    benchmark:
        f"{OUTDIR}/benchmarks/targets.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        **STAGE_PARAMS["targets"],
    script:
        "../../scripts/targets.py"
