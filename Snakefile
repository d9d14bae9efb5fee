# neowise-lightcurves: NEOWISE light curves for a list of sky positions, read straight from
# IRSA's HEALPix-partitioned Parquet copy of the NEOWISE Single-exposure Source Table.
#
#   targets -> manifest (checkpoint) -> match (one job per year and shard, cached)
#           -> lightcurves + summary -> plots (in the report)
#   or, for a small sample (one_job: auto and a small targets file, or true), all of it
#   in one job.
#
# This file is only wiring; the rules are in workflow/rules/, the logic in the
# neowise_lightcurves package (src/).

import os

from snakemake.utils import min_version

from neowise_lightcurves import exits, snakemake_pandas

min_version("9.0")
# Snakemake's process asks whether params are pandas objects without importing pandas (~0.3
# CPU-s before the first job): neowise_lightcurves.snakemake_pandas
snakemake_pandas.check_params_without_importing_pandas()


# The defaults, wherever the run's working folder is; --configfile and --config update them.
configfile: os.path.join(workflow.basedir, "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"


if ONE_JOB:  # the whole run in one job, for small samples

    include: "workflow/rules/one_job.smk"

else:

    include: "workflow/rules/targets.smk"
    include: "workflow/rules/manifest.smk"
    include: "workflow/rules/match.smk"
    include: "workflow/rules/lightcurves.smk"
    include: "workflow/rules/plots.smk"


include: "workflow/rules/plan.smk"
include: "workflow/rules/costs.smk"
include: "workflow/rules/cache.smk"


rule all:
    default_target: True
    input:
        final_outputs(),


# Snakemake's process ends with its work (it would wait ~1 s for a timer of its scheduler's,
# and collect garbage): neowise_lightcurves.exits
onsuccess:
    exits.end_of_run(workflow.scheduler)


onerror:
    exits.end_of_run(workflow.scheduler)
