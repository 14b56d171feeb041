"""Writing and validating the JSON report against the shipped schema."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from formcheck.atomic import atomic_write_json


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report contract (shipped as `formcheck/report/schema.json`)."""
    text = resources.files("formcheck.report").joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_report(data: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` when `data` breaks the contract."""
    jsonschema.validate(data, report_schema())


def write_json(data: dict[str, Any], path: str | Path) -> None:
    """Write JSON atomically (temp file + rename), so a crash never leaves half a report."""
    atomic_write_json(path, data)
