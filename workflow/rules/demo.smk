# The built-in demo sky: a deterministic synthetic catalogue in IRSA's layout, and its targets
# (on the submitting host: they cost next to nothing).


localrules:
    demo_targets,


rule demo_targets:
    output:
        f"{OUTDIR}/demo/targets.ecsv",
    log:
        f"{LOGDIR}/demo_targets.log",
    benchmark:
        f"{OUTDIR}/benchmarks/demo_targets.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        seed=config["demo"]["seed"],
        field_sources=config["demo"]["field_sources"],
    script:
        "../../scripts/demo_targets.py"


rule demo_year:
    output:
        directory(f"{DEMO_ROOT}/{{year}}/neowiser-healpix_k5-{{year}}.parquet"),
    log:
        f"{LOGDIR}/demo_year/{{year}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/demo_year/{{year}}.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        root=lambda w, output: demo_catalog_root(output[0], w.year),
        seed=config["demo"]["seed"],
        field_sources=config["demo"]["field_sources"],
    script:
        "../../scripts/demo_year.py"


rule demo_allwise:
    output:
        directory(f"{DEMO_ROOT}/{nl_catalog.ALLWISE_DATASET}"),
    log:
        f"{LOGDIR}/demo_allwise.log",
    benchmark:
        f"{OUTDIR}/benchmarks/demo_allwise.tsv"
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        root=lambda w, output: demo_catalog_root(output[0], "allwise"),
        seed=config["demo"]["seed"],
        field_sources=config["demo"]["field_sources"],
    script:
        "../../scripts/demo_allwise.py"
