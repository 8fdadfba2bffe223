"""``:checkhealth remora``'s project checks: hub, database schema, model server."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

from remora_core.config import load_config
from remora_core.errors import RemoraError
from remora_core.hub.status import hub_status
from remora_core.store.db import database_path, read_schema_version
from remora_core.store.schema import SCHEMA_VERSION

DOCTOR_TOOL_TIMEOUT_S = 20.0  # the tiny tool call of the model checks (a CPU model is slow)


def schema_check(root: Path) -> dict[str, Any]:
    """The database's schema version against this Remora's, read-only (never migrates)."""
    path = database_path(root)
    result: dict[str, Any] = {"path": str(path), "expected": SCHEMA_VERSION, "version": None, "error": None}
    if not path.exists():
        result["error"] = f"no database at {str(path)!r}: run ':Remora index' (or 'remora index') first"
        return result
    try:
        result["version"] = read_schema_version(path)
    except sqlite3.Error as error:
        result["error"] = f"cannot read {str(path)!r}: {error}"
    return result


def project_health(root: Path) -> dict[str, Any]:
    """Everything the health check reports about one project root."""
    out: dict[str, Any] = {"root": str(root)}
    out["hub"] = hub_status(root).as_json()
    out["schema"] = schema_check(root)
    from remora_core.languages import health as languages_health

    out["languages"] = languages_health()
    try:
        config = load_config(root)
    except RemoraError as error:
        out["config_error"] = str(error)
        return out
    from remora_core.agents.doctor import run_checks  # the same checks as `remora doctor`

    out["doctor"] = [asdict(check) for check in run_checks(config.llm, tool_timeout=DOCTOR_TOOL_TIMEOUT_S)]
    return out
