"""``:checkhealth remora``'s project checks: hub, database schema, model server."""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from remora_core.config import load_config
from remora_core.errors import RemoraError
from remora_core.hub.status import hub_status
from remora_core.store.db import database_path, read_schema_version
from remora_core.store.schema import SCHEMA_VERSION

MODEL_TIMEOUT_S = 2.0


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


def model_check(base_url: str, timeout: float = MODEL_TIMEOUT_S) -> dict[str, Any]:
    """GET ``{base_url}/models``: reachable, and which models it serves."""
    url = base_url.rstrip("/") + "/models"
    result: dict[str, Any] = {"url": url, "ok": False, "models": [], "error": None}
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(1_000_000)
            result["ok"] = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        result["error"] = f"model server {url!r} unreachable: {reason}"
        return result
    import json

    try:
        data = json.loads(body)
        result["models"] = [str(item.get("id")) for item in data.get("data", []) if isinstance(item, dict)]
    except (ValueError, AttributeError):
        result["error"] = f"model server {url!r} did not answer with an OpenAI model list"
        result["ok"] = False
    return result


def project_health(root: Path) -> dict[str, Any]:
    """Everything the health check reports about one project root."""
    out: dict[str, Any] = {"root": str(root)}
    out["hub"] = hub_status(root).as_json()
    out["schema"] = schema_check(root)
    try:
        config = load_config(root)
    except RemoraError as error:
        out["config_error"] = str(error)
        return out
    out["model"] = model_check(config.llm.base_url)
    out["model"]["configured"] = config.llm.model
    return out
