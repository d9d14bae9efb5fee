# Every job's wall time, peak memory and CPU time (Snakemake's benchmark: records under
# {outdir}/benchmarks/), gathered per rule into costs.tsv and a figure in the report. It runs
# last, after every output it accounts for, on the submitting host (it reads small files).


localrules:
    costs,


rule costs:
    input:
        shards=f"{OUTDIR}/manifest/shards.tsv",
        groups=f"{OUTDIR}/manifest/groups.tsv",
        outputs=final_products(),
    output:
        **({} if ONE_JOB else READS_OUTPUT),
        table=f"{OUTDIR}/costs.tsv",
        figure=report(
            f"{OUTDIR}/overview/costs.png",
            caption="../report/costs.rst",
            category="Overview",
        ),
    log:
        f"{LOGDIR}/costs.log",
    conda:
        "../../envs/neowise-lightcurves.yaml"
    params:
        radius=RADIUS,
        years=READ_YEARS,
        # the rules' names from their one home (nl_cache), as the cache rules' are
        once=nl_cache.once_rules(
            DEMO_TARGETS, ALLWISE_KEY and ALLWISE_SOURCE == "demo", ONE_JOB
        ),
        staged=not ONE_JOB,
        demo_years=YEARS if DEMO_CATALOG else [],
        cache=f"{OUTDIR}/cache",
        side_key=SIDE_KEY,
    script:
        "../../scripts/costs.py"
