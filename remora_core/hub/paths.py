"""Where a project's hub keeps its lock, pid and log files (all under ``.remora/``)."""

from __future__ import annotations

from pathlib import Path

from remora_core.config import CONFIG_DIR

LOCK_FILE = "hub.lock"
PID_FILE = "hub.pid"
LOG_FILE = "hub.log"


def state_dir(root: Path) -> Path:
    return root / CONFIG_DIR


def lock_path(root: Path) -> Path:
    return state_dir(root) / LOCK_FILE


def pid_path(root: Path) -> Path:
    return state_dir(root) / PID_FILE


def log_path(root: Path) -> Path:
    return state_dir(root) / LOG_FILE
