"""Rule costs: every job's wall time and peak memory of this run's outputs, per rule, and what
its match jobs read."""

from pathlib import Path

from neowise_lightcurves import atomic, costs, logs, manifest, stages

log = logs.to_file(snakemake.log[0])
p = snakemake.params
shards = manifest.read_shards(snakemake.input.shards)
groups = manifest.read_groups(snakemake.input.groups)
jobs = costs.run_jobs(
    shards, groups, p.radius, p.years, p.once, p.demo_years, p.side_key, staged=p.staged
)
records = costs.read_records(Path(snakemake.output.table).parent / "benchmarks", jobs)
table = costs.per_rule(records)
with atomic.atomic_path(snakemake.output.table) as tmp:
    table.to_csv(tmp, sep="\t", index=False, float_format="%.2f")
costs.costs_figure(table, snakemake.output.figure)
log.info("costs of %d jobs:\n%s", len(records), table.to_string(index=False))

# the match files and their columns files: what every job that read the catalogue read (in a
# one-job run, the job wrote it)
if "reads" in snakemake.output.keys():
    out = snakemake.output
    stages.run_reads(
        p.cache, shards, p.radius, list(p.years), p.side_key, out.reads, out.reads_table
    )
