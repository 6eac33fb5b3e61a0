"""GitHub Actions workflow commands: one annotation per finding and error."""

from __future__ import annotations

from migrator.report.data import ReportData


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(data: ReportData) -> str:
    lines = []
    for f in data.findings:
        level = "warning" if f.fixable else "error"
        text = f.message if f.reason is None else f"{f.message} (manual review: {f.reason})"
        props = (
            f"file={_escape_property(data.path(f.path))},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={_escape_property(f.rule)}"
        )
        lines.append(f"::{level} {props}::{_escape_data(f'{f.rule} {text}')}")
    for error in data.errors:
        lines.append(f"::error file={_escape_property(data.path(error.path))},title=migrator::{_escape_data(error.message or '')}")
    return "".join(line + "\n" for line in lines)
