"""The config schema: the defaults validate; wrong keys and values get messages naming them."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
DEFAULTS = yaml.safe_load((ROOT / "config.yaml").read_text())


def with_change(path, value):
    cfg = copy.deepcopy(DEFAULTS)
    *head, last = path
    node = cfg
    for key in head:
        node = node[key]
    node[last] = value
    return cfg


def test_defaults_validate():
    validate(copy.deepcopy(DEFAULTS), SCHEMA)


@pytest.mark.parametrize(
    "path, value, named",
    [
        (("match", "radius_arcsec"), 0, "radius_arcsec"),
        (("match", "radius_arcsec"), "1", "radius_arcsec"),
        (("match", "shard_order"), 6, "shard_order"),
        (("match", "max_shard_targets"), 0, "max_shard_targets"),
        (("match", "max_shard_targets"), 2.5, "max_shard_targets"),
        (("match", "colour"), "red", "colour"),
        (("catalog", "years"), [1, 12], "years"),
        (("catalog", "years"), [], "years"),
        (("catalog", "years"), [1, "two"], "years"),
        (("targets", "source"), "simbad", "source"),
        (("plots", "top_n"), -1, "top_n"),
        (("plots", "flux_unit"), "jansky", "flux_unit"),
        (("outdir",), "", "outdir"),
        (("extra",), 1, "extra"),
        (("match", "radius_arcsec"), -2.5, "radius_arcsec"),
        (("match", "radius_arcsec"), 1e6, "radius_arcsec"),
        (("match", "threads"), 0, "threads"),
        (("match", "cuts"), 5, "cuts"),
        (("match", "extra_columns"), "w1snr", "extra_columns"),
        (("catalog", "years"), [0], "years"),
        (("catalog", "years"), [1, 1], "years"),
        (("catalog", "years"), "all", "years"),
        (("catalog", "root"), "", "root"),
        (("catalog", "s3", "scheme"), "ftp", "scheme"),
        (("catalog", "s3", "anonymous"), "yes please", "anonymous"),
        (("catalog", "allwise_mep", "enabled"), "yes", "enabled"),
        (("catalog", "allwise_mep", "tap_url"), "irsa.ipac.caltech.edu/TAP", "tap_url"),
        (("catalog", "allwise_mep", "table"), "mep; drop table", "table"),
        (("catalog", "allwise_mep", "max_upload_rows"), 0, "max_upload_rows"),
        (("catalog", "allwise_mep", "max_answer_rows"), 0, "max_answer_rows"),
        (("catalog", "allwise_mep", "attempts"), 0, "attempts"),
        (("catalog", "allwise_mep", "job_timeout_s"), 0, "job_timeout_s"),
        (("catalog", "allwise_mep", "source"), "", "source"),
        (("catalog", "allwise_mep", "colour"), "red", "colour"),
        (("targets", "duplicate_ids"), "merge", "duplicate_ids"),
        (("targets", "vizier", "tap_url"), "tapvizier.cds", "tap_url"),
        (("targets", "vizier", "row_limit"), 0, "row_limit"),
        (("binning", "sigma"), 0, "sigma"),
        (("association", "min_cluster_fraction"), 0.7, "min_cluster_fraction"),
        (("association", "max_gap"), 1, "max_gap"),
        (("periods", "band"), "w3", "band"),
        (("periods", "min_detections"), 2, "min_detections"),
        (("periods", "max_frequency_per_day"), 0, "max_frequency_per_day"),
        (("periods", "oversampling"), 0.5, "oversampling"),
        (("periods", "fap_threshold"), 1.5, "fap_threshold"),
        (("periods", "alias_window_power"), 0, "alias_window_power"),
        (("periods", "enabled"), "yes", "enabled"),
        (("periods", "period"), 1, "period"),
        (("outputs", "per_target_formats"), ["hdf5"], "per_target_formats"),
        (("demo", "field_sources"), -1, "field_sources"),
        (("match", "proper_motion"), "yes", "proper_motion"),
        (("targets", "pm_epoch"), 57388.5, "pm_epoch"),
        (("targets", "pmra_column"), 3, "pmra_column"),
    ],
)
def test_bad_values_are_named(path, value, named):
    with pytest.raises(WorkflowError) as err:
        validate(with_change(path, value), SCHEMA)
    assert named in str(err.value)


def test_command_line_strings_are_read_as_the_schema_wants():
    """`--config match={radius_arcsec: 2}` reaches us as strings (YAML BaseLoader)."""
    from neowise_lightcurves.config import coerce_cli_strings

    schema = yaml.safe_load(Path(SCHEMA).read_text())
    cli = {
        "match": {"radius_arcsec": "2.5", "cuts": "1", "shard_order": "3"},
        "catalog": {"years": ["1", "2", "addendum"]},
        "plots": {"top_n": "all"},
        "targets": {"path": "null", "id_column": "42"},  # strings are valid here: kept
    }
    out = coerce_cli_strings(cli, schema)
    assert out["match"] == {"radius_arcsec": 2.5, "cuts": "1", "shard_order": 3}
    assert out["catalog"]["years"] == [1, 2, "addendum"]
    assert out["plots"]["top_n"] == "all"
    assert out["targets"] == {"path": "null", "id_column": "42"}
    bad = coerce_cli_strings({"match": {"radius_arcsec": "x"}}, schema)
    assert bad["match"]["radius_arcsec"] == "x"  # left for validation to name


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"targets": {"source": "file", "path": "nowhere.csv"}},
            "targets.path 'nowhere.csv' is not a readable file",
        ),
        ({"targets": {"source": "file"}}, "targets.source is 'file' but targets.path is not set"),
        ({"match": {"cuts": "w9flux > 3"}}, "names unknown column(s): w9flux"),
        ({"match": {"cuts": "cc_flags =="}}, "is not a valid pandas query"),
        ({"match": {"extra_columns": ["w3flux"]}}, "unknown catalogue column(s): w3flux"),
        ({"catalog": {"years": [1, 12]}}, "years"),
        ({"match": {"radius_arcsec": 0}}, "radius_arcsec"),
    ],
)
def test_workflow_refuses_bad_configs_before_running(tmp_path, change, message):
    """The same through Snakemake itself: nothing runs, the message names the problem."""
    from workflow_helpers import snakemake

    ran, proc = snakemake(tmp_path, change, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and sum(ran.values()) == 0
    assert message in out, out[-2000:]


def _targets_csv(path, rows):
    path.write_text("id,ra,dec\n" + "".join(f"t{i},{i % 360},0.5\n" for i in range(rows)))
    return str(path)


def test_one_job_auto_by_the_targets_files_rows(tmp_path):
    """one_job: auto is one job for a targets file of at most ONE_JOB_MAX_TARGETS rows, stages
    for more, for a file whose rows cannot be counted, for VizieR and the demo; true and false
    are themselves whatever the targets."""
    from neowise_lightcurves.config import ONE_JOB_MAX_TARGETS, one_job

    small = _targets_csv(tmp_path / "small.csv", ONE_JOB_MAX_TARGETS)
    large = _targets_csv(tmp_path / "large.csv", ONE_JOB_MAX_TARGETS + 1)
    binary = str(tmp_path / "b.xml")
    from astropy.table import Table

    Table({"id": ["a"], "ra": [1.0], "dec": [2.0]}).write(
        binary, format="votable", tabledata_format="binary2"
    )

    def cfg(value, source="file", path=None, root="demo", mep=False):
        out = copy.deepcopy(DEFAULTS)
        out["one_job"] = value
        out["targets"].update(source=source, path=path)
        out["catalog"]["root"] = root
        out["catalog"]["allwise_mep"]["enabled"] = mep
        validate(out, SCHEMA)
        return out

    assert DEFAULTS["one_job"] == "auto"
    assert one_job(cfg("auto", path=small)) is True
    assert one_job(cfg("auto", path=large)) is False
    assert one_job(cfg("auto", path=binary)) is False
    assert one_job(cfg("auto", source="demo")) is False
    assert one_job(cfg("auto", source="vizier")) is False
    # the MEP through TAP: its queries run on the submitting host, 4 at once, in stages
    assert one_job(cfg("auto", path=small, root="s3://bucket/x", mep=True)) is False
    assert one_job(cfg("auto", path=small, root="s3://bucket/x")) is True
    assert one_job(cfg("auto", path=small, mep=True)) is True  # the demo's local copy
    for path in (small, large, binary):
        assert one_job(cfg(True, path=path)) is True
        assert one_job(cfg(False, path=path)) is False
    with pytest.raises(Exception, match="one_job"):
        cfg("sometimes")


def test_config_yaml_states_the_one_job_limit():
    """config.yaml's comment on one_job: auto, and the docs, give the limit the code uses."""
    import re

    from neowise_lightcurves.config import ONE_JOB_MAX_TARGETS

    text = (ROOT / "config.yaml").read_text()
    comment = text[text.index("one_job:") : text.index("outdir:")]
    assert f"at most {ONE_JOB_MAX_TARGETS} rows" in comment
    # and every doc that gives the limit
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    stated = [
        (path.name, int(n))
        for path in docs
        for n in re.findall(r"at most (\d+) rows", path.read_text().replace("\n", " "))
    ]
    assert len(stated) >= 4 and {n for _, n in stated} == {ONE_JOB_MAX_TARGETS}, stated
