"""Project exceptions. Every message names the thing it is about (with ``!r``)."""

from __future__ import annotations


class RemoraError(Exception):
    """Base class of every error Remora raises on purpose (user-facing, one line)."""


class ConfigError(RemoraError):
    """``.remora/config.toml`` is unreadable or invalid."""


class StoreError(RemoraError):
    """The project database cannot be opened or used."""


class FileChangedError(RemoraError):
    """A file changed on disk between the moment it was read and the moment it was written."""


class WriteRefusedError(RemoraError):
    """Remora will not write this file: outside the project root, through a symbolic link, a
    link itself, or read-only."""


class NodeNotFoundError(RemoraError):
    """No node with the given id (or in the given file) is known."""


class ProjectError(RemoraError):
    """The project root or a path inside it is not usable."""
