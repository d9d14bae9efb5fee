"""NEOWISE single-exposure light curves from IRSA's HEALPix-partitioned Parquet catalogue.

Modules
-------
columns      the catalogue's 143 columns, their types, units and descriptions
sky          HEALPix partitions of cones, shards, angular distances
catalog      where a catalogue year lives and how its partition files are listed and opened
targets      reading and validating target tables (demo, file, VizieR)
manifest     which partitions and shards each target touches (density-adaptive shards, each
             target's home shard); cache keys of match jobs
matching     exact cone matching of targets against catalogue partitions
cuts         quality cuts: checking them and applying them
lightcurves  match caches into light curves: reading, cutting, sorting, de-duplicating
binning      visit binning and variability statistics
summary      the per-target summary
merge        one shard's light curves, binned epochs, summary and per-target files, in batches
outputs      the run's outputs across shards: gathering, stale shard files, read_lightcurves
target_files per-target files and their index
filenames    file names for any target id, safe on every system
plots        epoch and overview figures
cache        where match cache files live; pruning the unused ones
costs        every job's cost record (Snakemake benchmark files), per rule
reads        what the match jobs read (files, row groups, requests, bytes), per job and run
inprocess    fetch(): the workflow's steps in one process, for a few targets in a notebook
iocount      counting the bytes a catalogue reads (benchmarks)
demo         a deterministic synthetic sky in IRSA's exact layout
realrows     real IRSA rows (timewise's TAP downloads) in the catalogue's layouts; timewise's visits
atomic       writing outputs under a temporary name, then renaming
config       reading the workflow's configuration
logs         each job's log file, and why it failed
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neowise-lightcurves")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def read_lightcurves(outdir, target_ids=None, *, binned=False, astropy=False):
    """A run's light curves (or binned epochs), for every target or a few; see
    :func:`neowise_lightcurves.outputs.read_lightcurves`."""
    from .outputs import read_lightcurves as read

    return read(outdir, target_ids, binned=binned, astropy=astropy)


def fetch(targets, *, binned=False, config=None, record=None, **options):
    """Light curves of a few targets in this process, no Snakemake; see
    :func:`neowise_lightcurves.inprocess.fetch`."""
    from .inprocess import fetch as run

    return run(targets, binned=binned, config=config, record=record, **options)
