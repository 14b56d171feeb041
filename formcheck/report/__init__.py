"""Reports: the types, the JSON contract and its schema, terminal output."""

from formcheck.report.json_io import report_schema, validate_report, write_json
from formcheck.report.model import (
    SCHEMA_VERSION,
    ModelInfo,
    RepReport,
    SetReport,
    ViewInfo,
)

__all__ = [
    "SCHEMA_VERSION",
    "ModelInfo",
    "RepReport",
    "SetReport",
    "ViewInfo",
    "report_schema",
    "validate_report",
    "write_json",
]
