"""NEOWISE single-exposure light curves from IRSA's HEALPix-partitioned Parquet catalogue.

Modules
-------
columns      the catalogue's 143 columns, their types, units and descriptions
sky          HEALPix partitions of cones, shards, angular distances
catalog      where a catalogue year lives and how its partition files are listed and opened
targets      reading and validating target tables (demo, file, VizieR)
manifest     which partitions and shards each target touches; cache keys of match jobs
matching     exact cone matching of targets against catalogue partitions
cuts         quality cuts: checking them and applying them
lightcurves  merging matches into light curves, per-target summary
plots        epoch figures
demo         a deterministic synthetic sky in IRSA's exact layout
atomic       writing outputs under a temporary name, then renaming
config       reading the workflow's configuration
logs         each job's log file
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neowise-lightcurves")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
