"""The match cache: where each (radius, year, shard) file lives, and pruning the files the
current manifest does not use.

Cache files are named by content (``r{radius}/{year}/{shard}-{digest}.parquet`` under
``{outdir}/cache``), so files of earlier radii, target lists, catalogues or years stay until they
are pruned: going back to an earlier radius reuses them, at the cost of disk space.

A NEOWISE match job caches the base columns
(:func:`neowise_lightcurves.columns.base_columns`); the other columns the cuts and
``extra_columns`` name are read for the same matches by a job of their own and kept beside,
row for row, in a *columns file* (:func:`columns_name`: the match file's name with ``+{key}``,
the key a digest of those columns' names), so a cut that needs a new column reads only it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import surveys
from .manifest import Shard

#: A match file's name under ``{outdir}/cache`` without its suffix: the one template the rules'
#: output, log and record paths and :func:`cache_name` fill (Snakemake fills its wildcards).
MATCH_FILE = "r{radius}/{year}/{shard}-{digest}"
#: A columns file's, beside its match file (:func:`columns_name`).
COLUMNS_FILE = MATCH_FILE + "+{key}"
#: The rules that write cache files, by the file they write: a NEOWISE year's matches, the
#: AllWISE MEP's, the columns read later for a match file's rows. Each job's log and cost
#: record are ``logs/{rule}/{name}.log`` and ``benchmarks/{rule}/{name}.tsv``.
MATCH_RULE, MEP_RULE, COLUMNS_RULE = "match", "match_allwise", "match_columns"
CACHE_RULES = (MATCH_RULE, MEP_RULE, COLUMNS_RULE)
#: The other rules whose jobs the costs rule counts: those run once a run (a cost record
#: ``benchmarks/{rule}.tsv``), the demo's (its targets and MEP copy once, its catalogue one job
#: a year) and the light curves (one job a group of targets).
ONCE_RULES = ("targets", "manifest", "summary", "plots", "overview")
DEMO_TARGETS_RULE, DEMO_MEP_RULE, DEMO_YEAR_RULE = "demo_targets", "demo_allwise", "demo_year"
LIGHTCURVES_RULE = "lightcurves"
#: The rule of a run in one job (``one_job``: :func:`neowise_lightcurves.config.one_job`),
#: instead of the staged rules.
ONE_JOB_RULE = "one_job"

#: Folders under ``outdir`` that hold one entry per cache file: the files themselves, and the
#: cache rules' jobs' logs and cost records (``.log``, ``.tsv``).
CACHE_FOLDERS = {
    "cache": ".parquet",
    **{f"logs/{rule}": ".log" for rule in CACHE_RULES},
    **{f"benchmarks/{rule}": ".tsv" for rule in CACHE_RULES},
}


def once_rules(demo_targets: bool, demo_mep: bool, one_job: bool = False) -> list[str]:
    """The rules run once whose cost records a run counts: the demo's targets and its MEP copy
    when the run makes them (``demo_targets``, ``demo_mep``), then :data:`ONCE_RULES`, or in a
    run in one job (``one_job``) its rule, :data:`ONE_JOB_RULE`."""
    demo = [DEMO_TARGETS_RULE] * bool(demo_targets) + [DEMO_MEP_RULE] * bool(demo_mep)
    return demo + ([ONE_JOB_RULE] if one_job else list(ONCE_RULES))


def cache_name(radius: str, year: str, shard: str, digest: str) -> str:
    """A cache file's path under ``{outdir}/cache``: ``r{radius}/{year}/{shard}-{digest}.parquet``
    (:data:`MATCH_FILE`; ``radius`` as :func:`~neowise_lightcurves.manifest.radius_tag` writes
    it)."""
    return MATCH_FILE.format(radius=radius, year=year, shard=shard, digest=digest) + ".parquet"


def columns_key(columns: Iterable[str]) -> str:
    """The key of a columns file (:func:`columns_name`): 8 hex digits of a digest of the
    columns' names, in order; ``""`` for none (no columns file)."""
    columns = list(columns)
    if not columns:
        return ""
    return hashlib.sha256(",".join(columns).encode()).hexdigest()[:8]


def columns_name(match_name: str, key: str) -> str:
    """The columns file (under ``{outdir}/cache``) beside the match file ``match_name``
    (:func:`cache_name`) for the columns of ``key`` (:func:`columns_key`; :data:`COLUMNS_FILE`:
    the match file's name, then ``+{key}``)."""
    stem = match_name.removesuffix(".parquet")
    return COLUMNS_FILE.replace(MATCH_FILE, "{stem}").format(stem=stem, key=key) + ".parquet"


def year_digest(shard: Shard, year: str) -> str:
    """The digest in a shard's cache file's name for ``year``: the shard's, or for the AllWISE
    MEP (``"allwise"``) its MEP digest (:meth:`~neowise_lightcurves.surveys.Survey.digest`)."""
    return surveys.of(year).digest(shard)


def match_path(outdir: str | os.PathLike, radius: str, shard: Shard, year: str) -> str:
    """The path of a shard's match file for ``year`` under ``{outdir}/cache``."""
    return f"{outdir}/cache/{cache_name(radius, year, shard.shard, year_digest(shard, year))}"


def columns_path(
    outdir: str | os.PathLike, radius: str, shard: Shard, year: str, key: str
) -> str | None:
    """The path of the columns file (``key``, :func:`columns_key`) beside a shard's match
    file for ``year``; None where there is none (no columns beyond a match job's, or the
    AllWISE MEP's, whose jobs read every column at once)."""
    if not key or not surveys.of(year).columns_files:
        return None
    name = cache_name(radius, year, shard.shard, year_digest(shard, year))
    return f"{outdir}/cache/{columns_name(name, key)}"


def used_names(
    shards: Iterable[Shard], radius: str, years: Iterable[str], key: str = ""
) -> set[str]:
    """The cache names (:func:`cache_name`) a run of these shards, radius and years reads, and
    their columns files for ``key`` (:func:`columns_key`; NEOWISE years only)."""
    shards = list(shards)
    names = set()
    for y in years:
        for s in shards:
            name = cache_name(radius, y, s.shard, year_digest(s, y))
            names.add(name)
            if key and surveys.of(y).columns_files:
                names.add(columns_name(name, key))
    return names


@dataclass
class Pruned:
    """What :func:`prune` removed: the files, their bytes, and how many cache files it kept."""

    files: list[Path] = field(default_factory=list)
    bytes: int = 0
    kept: int = 0


def prune(outdir: str | os.PathLike, used: set[str]) -> Pruned:
    """Remove every cache file under ``{outdir}/cache`` whose name is not in ``used``, with its
    job's log and cost record, and what killed writers left (``.tmp-*``).

    Parameters
    ----------
    outdir : path
        The run's ``outdir``.
    used : set of str
        Names the current run reads (:func:`used_names`): never removed.
    """
    outdir = Path(outdir)
    out = Pruned()
    wanted = {name.removesuffix(".parquet") for name in used}
    for folder, suffix in CACHE_FOLDERS.items():
        base = outdir / folder
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            stem = path.relative_to(base).as_posix()
            stale = path.name.startswith(".tmp-")
            if not stale and (not stem.endswith(suffix) or stem.removesuffix(suffix) in wanted):
                out.kept += folder == "cache" and stem.endswith(suffix)
                continue
            out.files.append(path)
            out.bytes += path.stat().st_size
            path.unlink()
        for sub in sorted((p for p in base.rglob("*") if p.is_dir()), reverse=True):
            if not any(sub.iterdir()):  # left empty
                sub.rmdir()
    return out
