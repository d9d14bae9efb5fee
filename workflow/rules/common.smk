# Configuration checks, constants and input functions shared by the rules.
# Parsing stays cheap (every cluster job re-parses): no table loads, no catalogue listings here
# (one_job: auto counts a targets file's rows up to its limit; cluster jobs take the decision).

import os

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from neowise_lightcurves import allwise as nl_allwise
from neowise_lightcurves import cache as nl_cache
from neowise_lightcurves import catalog as nl_catalog
from neowise_lightcurves import config as nl_config
from neowise_lightcurves import cuts as nl_cuts
from neowise_lightcurves import manifest as nl_manifest

CONFIG_SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
# --config's strings as the schema wants them (the package's copy of the schema, equal to this
# one, a test says: parsed with libyaml, ~4 ms against ~50 ms at every start and cluster job)
config.update(nl_config.coerce_cli_strings(dict(config), nl_config.schema()))
validate(config, CONFIG_SCHEMA)

# Everything the configuration implies, worked out in one place (fetch() uses the same)
try:
    RESOLVED = nl_config.resolve(config)
except ValueError as err:
    raise WorkflowError(f"config: {err}") from None
OUTDIR = RESOLVED.outdir
LOGDIR = f"{OUTDIR}/logs"
DEMO_CATALOG = RESOLVED.demo_catalog
DEMO_TARGETS = RESOLVED.demo_targets
DEMO_ROOT = RESOLVED.demo_root  # the demo sky's catalogue, and its copy of the MEP
CATALOG_ROOT = RESOLVED.catalog_root
YEARS = list(RESOLVED.years)
RADIUS = RESOLVED.radius_tag
CUT_COLUMNS = RESOLVED.cut_columns
# a NEOWISE match job's columns (the same whatever the cuts), every column the light curves
# hold, and those read for the matches by a job of their own (rule match_columns), its key
BASE_COLUMNS = RESOLVED.base_columns
CACHED_COLUMNS = RESOLVED.cached_columns
SIDE_COLUMNS = RESOLVED.side_columns
SIDE_KEY = RESOLVED.side_key
# what makes cached matches valid besides each shard's targets: the catalogue
CATALOG_KEY = RESOLVED.catalog_key
# The AllWISE Multiepoch Photometry (2010-2011): one more cached job per shard, year "allwise",
# through the TAP service or from a local copy (the demo's, with the demo catalogue).
ALLWISE = config["catalog"]["allwise_mep"]
ALLWISE_SOURCE = RESOLVED.allwise_source
ALLWISE_ROOT = RESOLVED.allwise_root
ALLWISE_KEY = RESOLVED.allwise_key  # where its matches come from, when on
# every year a light curve reads: the configured NEOWISE years, and the MEP's when on
READ_YEARS = list(RESOLVED.read_years)
# the cache files' names: the one template (nl_cache's) that cache_name() fills too
MATCH_FILE = nl_cache.MATCH_FILE
COLUMNS_FILE = nl_cache.COLUMNS_FILE
MEP_FILE = nl_cache.MATCH_FILE.replace("{year}", nl_allwise.NAME)
# the rules that write them (their logs' and records' folders; nl_cache.CACHE_FOLDERS)
# each stage's params: the rules' and the one-job run's
STAGE_PARAMS = nl_config.stage_params(config, RESOLVED)
MATCH_RULE, MEP_RULE, COLUMNS_RULE = (
    nl_cache.MATCH_RULE,
    nl_cache.MEP_RULE,
    nl_cache.COLUMNS_RULE,
)

if config["targets"]["source"] == "file":
    _path = config["targets"]["path"]
    if not _path:
        raise WorkflowError(
            "config: targets.source is 'file' but targets.path is not set"
        )
    if not os.path.isfile(_path) or not os.access(_path, os.R_OK):
        raise WorkflowError(
            f"config: targets.path {_path!r} is not a readable file "
            f"(working folder: {os.getcwd()})"
        )
# the whole run in one job (the one_job rule) or in stages (auto decides by the file's rows),
# decided once: a cluster job, which parses this file again, takes its run's decision from the
# environment instead of counting again (the file could have changed, or be unreadable there)
if workflow.remote_exec and nl_config.ONE_JOB_ENV in os.environ:
    ONE_JOB = os.environ[nl_config.ONE_JOB_ENV] == "1"
else:
    ONE_JOB = nl_config.one_job(config, RESOLVED)
os.environ[nl_config.ONE_JOB_ENV] = "1" if ONE_JOB else "0"


envvars:
    nl_config.ONE_JOB_ENV,


if config["one_job"] == "auto" and ONE_JOB and not workflow.remote_exec:
    logger.info(
        f"one_job: auto: {config['targets']['path']} has at most "
        f"{nl_config.ONE_JOB_MAX_TARGETS} targets, the whole run is one job (one_job: false "
        "runs it in stages)"
    )
# Before version 0.2 the light curves were one file; now they are a folder of one file per shard.
for _name in ("lightcurves.parquet", "binned.parquet"):
    if os.path.isfile(f"{OUTDIR}/{_name}"):
        raise WorkflowError(
            f"{OUTDIR}/{_name} is a single file written by an earlier version; the light "
            f"curves are now a folder of one file per shard. Remove the old outputs "
            f"(rm {OUTDIR}/lightcurves.parquet {OUTDIR}/binned.parquet; rm -r "
            f"{OUTDIR}/per_target); the match cache stays valid."
        )
if ALLWISE["enabled"]:
    _lacking = nl_allwise.lacking(CUT_COLUMNS)
    if _lacking and "year" not in nl_cuts.cut_names(config["match"]["cuts"]):
        logger.warning(
            f"match.cuts uses {', '.join(_lacking)}, which the AllWISE MEP does not have: "
            "every MEP row fails the cut (write e.g. \"(year == 'allwise' or qual_frame > 0)\" "
            "to keep them)"
        )
    _lacking = nl_allwise.lacking(config["match"]["extra_columns"])
    if _lacking:
        logger.warning(
            f"match.extra_columns {', '.join(_lacking)}: not in the AllWISE MEP, null in its rows"
        )


wildcard_constraints:
    year="year[0-9]+|addendum",
    shard="sky|k[0-5]_[0-9]+",
    group="sky|k[0-5]_[0-9]+",
    digest="[0-9a-f]{12}",
    key="[0-9a-f]{8}",
    radius="[0-9.e+-]+",


def demo_year_dataset(year):
    return f"{CATALOG_ROOT}/{nl_catalog.year_dataset(year)}"


def match_catalog_input(wildcards):
    """The demo year's dataset when the catalogue is the demo; nothing for real roots."""
    return [demo_year_dataset(wildcards.year)] if DEMO_CATALOG else []


def demo_catalog_root(year_dataset_path, year):
    """The catalogue root that holds a year's dataset folder (a param derived from the output,
    as Snakemake's lint asks)."""
    return year_dataset_path[: -len(nl_catalog.year_dataset(year)) - 1]


def allwise_catalog_input(wildcards):
    """The demo's copy of the MEP when it is the source; nothing for TAP or a real copy."""
    if ALLWISE_SOURCE != "demo":
        return []
    return [f"{DEMO_ROOT}/{nl_catalog.ALLWISE_DATASET}"]


def plan_manifest_input(wildcards):
    """The plan's manifest: the manifest rule's outputs, or in a run in one job (whose job
    writes them) the targets, from which the plan makes its own."""
    if ONE_JOB:
        return {"targets": targets_input(wildcards)}
    return {
        "shards": f"{OUTDIR}/manifest/shards.tsv",
        "groups": f"{OUTDIR}/manifest/groups.tsv",
        "partitions": f"{OUTDIR}/manifest/partitions.parquet",
    }


def plan_stage_params():
    """The targets and manifest rules' params, for the plan of a run in one job, which makes
    them itself; none for a staged run's (so a change elsewhere does not make it stale).
    """
    return {k: STAGE_PARAMS[k] for k in ("targets", "manifest")} if ONE_JOB else {}


def plan_catalog_input(wildcards):
    """Every configured demo year, so that the plan can count their bytes."""
    return [demo_year_dataset(y) for y in YEARS] if DEMO_CATALOG else []


_MANIFEST = {}


def _manifest_table(name, read, key):
    """A table of the manifest by name (read once per version of the file, after the
    checkpoint): ``name`` the checkpoint output, ``read`` its reader, ``key`` the name field.
    """
    path = getattr(checkpoints.manifest.get().output, name)
    stamp = (path, os.stat(path).st_mtime_ns)
    if stamp not in _MANIFEST:
        _MANIFEST[stamp] = {getattr(item, key): item for item in read(path)}
    return _MANIFEST[stamp]


def manifest_shards():
    return _manifest_table("shards", nl_manifest.read_shards, "shard")


def manifest_groups():
    return _manifest_table("groups", nl_manifest.read_groups, "group")


def lightcurve_inputs(wildcards):
    """Cache files, every year read, of every shard the group's targets' cones touch."""
    shards = manifest_shards()
    return [
        nl_cache.match_path(OUTDIR, RADIUS, shards[name], year)
        for year in READ_YEARS
        for name in manifest_groups()[wildcards.group].reads
    ]


def lightcurve_column_inputs(wildcards):
    """Their columns files (the cuts' and extra_columns' columns), where there are any."""
    shards = manifest_shards()
    found = (
        nl_cache.columns_path(OUTDIR, RADIUS, shards[name], year, SIDE_KEY)
        for year in READ_YEARS
        for name in manifest_groups()[wildcards.group].reads
    )
    return [path for path in found if path]


def summary_pieces(wildcards):
    return [f"{OUTDIR}/group_summaries/{name}.parquet" for name in manifest_groups()]


def per_target_folders(wildcards):
    if not config["outputs"]["per_target_formats"]:
        return []
    return [f"{OUTDIR}/per_target/{name}" for name in manifest_groups()]


# One folder of per-target files per light-curve job, and their index, when any format is
# configured.
PER_TARGETS = bool(config["outputs"]["per_target_formats"])
PER_TARGET_OUTPUT = (
    {"per_target": directory(f"{OUTDIR}/per_target/{{group}}")} if PER_TARGETS else {}
)
PER_TARGET_INDEX = (
    {"index": f"{OUTDIR}/per_target/index.parquet"} if PER_TARGETS else {}
)


def targets_input(wildcards):
    source = config["targets"]["source"]
    if source == "demo":
        return [f"{OUTDIR}/demo/targets.ecsv"]
    if source == "file":
        return [config["targets"]["path"]]
    return []


def final_products():
    """What a run makes for its users (the cost records account for these)."""
    outputs = [
        f"{OUTDIR}/summary.parquet",
        f"{OUTDIR}/plots",
        f"{OUTDIR}/overview/variability.png",
        f"{OUTDIR}/overview/sky.png",
    ]
    if config["outputs"]["per_target_formats"]:
        outputs.append(f"{OUTDIR}/per_target/index.parquet")
    return outputs


def final_outputs():
    """Everything a run makes: its products, what its match jobs read and, in a staged run,
    the costs of its jobs (a one-job run's is benchmarks/one_job.tsv)."""
    costs = [] if ONE_JOB else [f"{OUTDIR}/costs.tsv", f"{OUTDIR}/overview/costs.png"]
    return [*final_products(), *costs, f"{OUTDIR}/reads.json", f"{OUTDIR}/reads.tsv"]


# What the match jobs read, in all: written by the costs rule, or by the one job.
READS_OUTPUT = {
    "reads": f"{OUTDIR}/reads.json",
    "reads_table": report(
        f"{OUTDIR}/reads.tsv",
        caption="../report/reads.rst",
        category="Overview",
    ),
}
