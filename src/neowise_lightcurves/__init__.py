"""NEOWISE single-exposure light curves from IRSA's HEALPix-partitioned Parquet catalogue.

Modules, by stage
-----------------
The catalogue and the sky
  surveys      where epochs come from: a NEOWISE year or the AllWISE MEP, and what each implies
  columns      the catalogue's 143 columns, their types and units; which ones a match reads
  sky          HEALPix partitions of cones, angular distances
  catalog      where a catalogue year lives, how its partition files are listed and opened
  motion       proper motions: widened cones, positions at each detection's time
Targets and the plan
  targets      reading and validating target tables (demo, file, VizieR)
  target_formats  a targets file's format, and its rows counted without reading it
  tap          TAP queries (VizieR, the AllWISE MEP): limits, overflows, retries
  manifest     which partitions each target touches; shards and groups (density-adaptive);
               cache keys of match jobs; the plan's text
  estimates    what a run will read, from listings and footers (snakemake plan)
Matching and reading
  matching     exact cone matching in partition files: the coarse filter, one pass or two,
               the exact test; columns read later for matched rows
  parquet      reading Parquet files: footers in one request, column-chunk ranges, their cost
  reads        the I/O record of match jobs (requests, bytes, floor), per job and per run
  ranged       fetching a read's byte ranges at once over a high-latency store
  iocount      counting the bytes a catalogue reads (benchmarks)
  allwise      the AllWISE Multiepoch Photometry: its columns, cache keys, part of the plan
  allwise_match  matching targets in the MEP: IRSA's TAP service or a local copy
  cache        where match cache files and their columns files live; pruning unused ones
Light curves
  cuts         quality cuts: checking them and applying them
  lightcurves  match caches into light curves: reading, cutting, sorting, de-duplicating
  photometry   zero points, flux densities (mJy), saturation
  binning      visit binning, clipping and variability statistics
  association  blending flags and the second-source test
  periods      Lomb-Scargle periods
  summary      the per-target summary
  merge        one group's light curves, binned epochs, summary and per-target files
Outputs
  outputs      the run's outputs across groups: gathering, read_lightcurves
  target_files per-target files and their index
  filenames    file names for any target id, safe on every system
  plots        epoch and overview figures
  costs        every job's cost record (Snakemake benchmark files), per rule
The stages
  stages       each rule's work as a function, and the whole run in one job (one_job)
Looking at the results
  rundata      a run's summary, then one target's rows, files and cut detections on demand
  interactive  Bokeh figures of one target (light curve, visit, folded, offsets)
  explorer     the explorer: a local Bokeh server page over a run's outputs
  export       the static HTML of a run's top targets
  flags        a user's flags on targets, in a file beside the run
  cli          the neowise-lightcurves command (explore, export)
In a notebook, and for tests
  inprocess    fetch(): the workflow's steps in one process, for a few targets
  demo         a deterministic synthetic sky in IRSA's exact layout
  realrows     real IRSA rows (timewise's TAP downloads) in the catalogue's layouts
Plumbing
  atomic       writing outputs under a temporary name, then renaming
  config       reading the workflow's configuration
  logs         each job's log file, why it failed, and its CPU
  exits        processes that end with their work (Snakemake's own, each job's)
  snakemake_pandas  Snakemake's own process checks rules' params without importing pandas
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neowise-lightcurves")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def read_lightcurves(outdir, target_ids=None, *, binned=False, astropy=False, groups=None):
    """A run's light curves (or binned epochs), for every target or a few; see
    :func:`neowise_lightcurves.outputs.read_lightcurves`."""
    from .outputs import read_lightcurves as read

    return read(outdir, target_ids, binned=binned, astropy=astropy, groups=groups)


def fetch(targets, *, binned=False, config=None, record=None, **options):
    """Light curves of a few targets in this process, no Snakemake; see
    :func:`neowise_lightcurves.inprocess.fetch`."""
    from .inprocess import fetch as run

    return run(targets, binned=binned, config=config, record=record, **options)
