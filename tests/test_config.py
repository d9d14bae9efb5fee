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
        (("match", "colour"), "red", "colour"),
        (("catalog", "years"), [1, 12], "years"),
        (("catalog", "years"), [], "years"),
        (("catalog", "years"), [1, "two"], "years"),
        (("targets", "source"), "simbad", "source"),
        (("plots", "top_n"), -1, "top_n"),
        (("outdir",), "", "outdir"),
        (("extra",), 1, "extra"),
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
