"""Workflow configuration helpers."""

from __future__ import annotations

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
