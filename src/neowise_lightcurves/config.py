"""The workflow's configuration: its defaults and schema (shipped with the package), checking
a configuration, fetch()'s keywords, and everything a configuration implies (:func:`resolve`),
worked out in one place for the rules and for fetch()."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml


def coerce_cli_strings(value: Any, schema: dict) -> Any:
    """Turn strings that ``--config`` left unparsed into what the schema asks for.

    Snakemake parses nested ``--config`` values (``match={radius_arcsec: 2}``) with YAML's
    BaseLoader, which keeps every scalar a string. Where the schema rejects such a string but
    accepts its YAML reading (``"2"`` -> ``2``, ``"true"`` -> ``True``, ``"null"`` -> ``None``),
    the reading replaces it; anything else is left for validation to report.
    """
    import jsonschema

    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: coerce_cli_strings(v, props.get(k, {})) for k, v in value.items()}
    if isinstance(value, list):
        items = schema.get("items", {})
        return [coerce_cli_strings(v, items) for v in value]
    if isinstance(value, str) and schema:
        validator = jsonschema.Draft202012Validator(schema)
        if not validator.is_valid(value):
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                return value
            if not isinstance(parsed, str):
                parsed = coerce_cli_strings(parsed, schema)
                if validator.is_valid(parsed):
                    return parsed
    return value


# ------------------------------------------------------------------------------ the defaults
#: Sections of the configuration whose first-level keys are fetch()'s keywords
#: (:func:`keyword_paths`); the other sections (``binning``, ...) are keywords themselves.
KEYWORD_SECTIONS = ("targets", "catalog", "match")


@cache
def _data(name: str) -> str:
    """The text of a file the package ships under ``data/`` (read once a process)."""
    from importlib.resources import files

    return files("neowise_lightcurves").joinpath(f"data/{name}").read_text()


def _load(text: str):
    """YAML ``text`` read safely, with libyaml's parser where PyYAML has it (the schema takes
    ~50 ms with the pure-Python one, ~4 ms with it)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def defaults() -> dict:
    """The workflow's default configuration (its ``config.yaml``, shipped in the package as
    ``data/config.yaml``; a test checks the two are the same)."""
    return _load(_data("config.yaml"))


def schema() -> dict:
    """The configuration's JSON schema (``workflow/schemas/config.schema.yaml``, shipped in the
    package as ``data/config.schema.yaml``)."""
    return _load(_data("config.schema.yaml"))


def validate(cfg: dict, who: str = "config") -> None:
    """Raise ValueError naming the first key of ``cfg`` the schema refuses, and why."""
    import jsonschema

    errors = sorted(
        jsonschema.Draft202012Validator(schema()).iter_errors(cfg), key=lambda e: list(e.path)
    )
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise ValueError(f"{who}: setting {where}: {errors[0].message}")


def keyword_paths() -> dict[str, tuple[str, ...]]:
    """fetch()'s keywords and the configuration keys they set, from the schema: every
    first-level key of :data:`KEYWORD_SECTIONS` (``radius_arcsec`` -> ``("match",
    "radius_arcsec")``), and every other section by its name (``binning``)."""
    props = schema()["properties"]
    out: dict[str, tuple[str, ...]] = {}
    for section, spec in props.items():
        if section not in KEYWORD_SECTIONS:
            out[section] = (section,)
            continue
        for key in spec.get("properties", {}):
            if key in out:
                raise RuntimeError(f"config keyword {key!r} is in two sections")
            out[key] = (section, key)
    return out


# ------------------------------------------------------------------------------ derived
@dataclass(frozen=True)
class Resolved:
    """Everything a validated configuration implies, worked out once (:func:`resolve`) for
    the workflow's rules and for fetch() alike."""

    #: the run's output folder, without a trailing slash
    outdir: str
    #: the catalogue is the built-in demo sky / the targets are the demo's
    demo_catalog: bool
    demo_targets: bool
    #: where the demo sky's catalogue (and its copy of the MEP) is written
    demo_root: str
    #: the catalogue root the match jobs read (the demo's folder for ``demo``)
    catalog_root: str
    #: what makes cached NEOWISE matches valid besides each shard's targets
    catalog_key: str
    #: NEOWISE years read (``"year1"`` ...), and those plus the MEP's ``"allwise"`` when on
    years: tuple[str, ...]
    read_years: tuple[str, ...]
    #: the radius as folder names write it
    radius_tag: str
    #: columns the cuts test; every NEOWISE match job's; every column of the light curves;
    #: those read later for the matched rows (rule match_columns) and their key
    cut_columns: tuple[str, ...]
    base_columns: tuple[str, ...]
    cached_columns: tuple[str, ...]
    side_columns: tuple[str, ...]
    side_key: str
    #: the MEP's source (``"demo"``, ``"tap"`` or a local copy's root; ``auto`` resolved), the
    #: root its jobs read (None through TAP), and its cache key (None when off)
    allwise_source: str
    allwise_root: str | None
    allwise_key: str | None


def resolve(cfg: dict) -> Resolved:
    """What a validated configuration ``cfg`` implies (:class:`Resolved`).

    Raises
    ------
    ValueError
        If the cuts or ``extra_columns`` name a column the catalogue does not have.
    """
    from . import allwise, cache, catalog, columns, cuts, manifest, surveys

    outdir = cfg["outdir"].rstrip("/")
    demo_catalog = cfg["catalog"]["root"] == "demo"
    demo_root = f"{outdir}/demo/catalog"
    m = cfg["match"]
    cut_columns = tuple(cuts.cut_columns(m["cuts"]))
    base = columns.base_columns(m["columns"])
    cached = columns.cached_columns(list(m["extra_columns"]) + list(cut_columns), m["columns"])
    side = cached[len(base) :]
    years = tuple(catalog.year_name(y) for y in cfg["catalog"]["years"])
    mep = cfg["catalog"]["allwise_mep"]
    source = mep["source"]
    if source == "auto":
        source = "demo" if demo_catalog else "tap"
    key = None
    if mep["enabled"]:
        key = allwise.source_key(source, mep["tap_url"], mep["table"], cfg["demo"])
    return Resolved(
        outdir=outdir,
        demo_catalog=demo_catalog,
        demo_targets=cfg["targets"]["source"] == "demo",
        demo_root=demo_root,
        catalog_root=demo_root if demo_catalog else cfg["catalog"]["root"],
        catalog_key=(
            "demo:seed={seed}:field={field_sources}".format(**cfg["demo"])
            if demo_catalog
            else cfg["catalog"]["root"].rstrip("/")
        ),
        years=years,
        read_years=years + ((surveys.MEP.name,) if mep["enabled"] else ()),
        radius_tag=manifest.radius_tag(m["radius_arcsec"]),
        cut_columns=cut_columns,
        base_columns=base,
        cached_columns=cached,
        side_columns=side,
        side_key=cache.columns_key(side),
        allwise_source=source,
        allwise_root={"demo": demo_root, "tap": None}.get(source, source),
        allwise_key=key,
    )


#: ``one_job: auto`` runs the whole run in one job for a targets file of at most this many rows.
ONE_JOB_MAX_TARGETS = 500
#: The environment variable that carries a run's decision (``1``: one job, ``0``: stages) to
#: its cluster jobs, which parse the workflow again (``workflow/rules/common.smk``).
ONE_JOB_ENV = "NEOWISE_LC_ONE_JOB"


def one_job(cfg: dict, resolved: Resolved | None = None) -> bool:
    """Whether a validated configuration ``cfg`` runs in one job (rule ``one_job``) rather than
    in stages: ``one_job`` itself when it is true or false. ``auto``: in one job when the
    targets are a file (``targets.source: file``) of at most :data:`ONE_JOB_MAX_TARGETS` rows,
    counted without reading it (:func:`~neowise_lightcurves.target_formats.count_rows`); in
    stages for a longer file, one whose rows cannot be counted so, a VizieR query or the demo's
    targets, and when the AllWISE MEP comes through TAP (its queries run on the submitting host,
    at most 4 at once, in stages; ``resolved``: what ``cfg`` implies, :func:`resolve` when not
    given). Either way the outputs and the match cache files are the same."""
    value = cfg["one_job"]
    if value != "auto":
        return bool(value)
    targets = cfg["targets"]
    if targets["source"] != "file" or not targets["path"]:
        return False
    r = resolved or resolve(cfg)
    if r.allwise_key is not None and r.allwise_source == "tap":
        return False
    from .target_formats import count_rows

    rows = count_rows(targets["path"], ONE_JOB_MAX_TARGETS)
    return rows is not None and rows <= ONE_JOB_MAX_TARGETS


def stage_params(cfg: dict, resolved: Resolved | None = None) -> dict[str, dict]:
    """Each stage's settings (its rule's ``params:``, the keywords of its function in
    :mod:`~neowise_lightcurves.stages`), by stage name, from a validated configuration ``cfg``
    and what it implies (``resolved``, :func:`resolve` when not given).

    Their values keep the form the rules' params had when the caches were written (columns as
    tuples): Snakemake reruns a job whose params' text changed, so a list where a tuple was
    would rerun every cached match job."""
    r = resolved or resolve(cfg)
    m, c = cfg["match"], cfg["catalog"]
    return {
        "targets": {"targets": cfg["targets"], "proper_motion": m["proper_motion"]},
        "manifest": {
            "radius_arcsec": m["radius_arcsec"],
            "proper_motion": m["proper_motion"],
            # a moving target's cone is widened by what it moves over the years read
            "years": list(r.read_years),
            "shard_order": m["shard_order"],
            "max_shard_targets": m["max_shard_targets"],
            "max_shard_partitions": m["max_shard_partitions"],
            "columns": r.base_columns,  # a NEOWISE match job's
            "allwise_columns": r.cached_columns,  # the MEP's: every column
            "catalog_key": r.catalog_key,
            "allwise_key": r.allwise_key,  # the MEP's source: its cache keys
        },
        "match": {
            "root": r.catalog_root,
            "s3": c["s3"],
            "radius_arcsec": m["radius_arcsec"],
            "columns": r.base_columns,
            "catalog_key": r.catalog_key,
            "concurrent_partitions": m["concurrent_partitions"],
        },
        "match_columns": {
            "root": r.catalog_root,
            "s3": c["s3"],
            "columns": r.side_columns,
            "key": r.side_key,  # (its file's name holds it)
            "concurrent_partitions": m["concurrent_partitions"],
        },
        "match_allwise": {
            "root": r.allwise_root,
            "s3": c["s3"],
            "tap": c["allwise_mep"],
            "radius_arcsec": m["radius_arcsec"],
            "columns": r.cached_columns,  # every column at once (its key holds them)
            "allwise_key": r.allwise_key,
            "concurrent_partitions": m["concurrent_partitions"],
        },
        "lightcurves": {
            "cuts": m["cuts"],
            "binning": cfg["binning"],
            "association": cfg["association"],
            "periods": cfg["periods"],
            "root": c["root"],
            "years": list(r.read_years),
            "radius_arcsec": m["radius_arcsec"],
            "formats": list(cfg["outputs"]["per_target_formats"]),
            "side_key": r.side_key,
        },
        "plots": {
            "top_n": cfg["plots"]["top_n"],
            "flux_unit": cfg["plots"]["flux_unit"],
            "gap_days": cfg["binning"]["gap_days"],
        },
    }
