"""The editor service: one per Neovim host. Holds per-root stores and answers the glue's calls.

Every public method takes and returns plain data (msgpack-able dicts, lists, strings), so
the pynvim glue stays a dispatcher and everything here is testable without Neovim.

Imports are lazy: the first request of a session is the line map of the buffer the user opened
(``linemap``), and it imports only the line map, the store and tree-sitter. The configuration
(pydantic), events, health, the hub and the agent host load with the first request that needs
them (the anchor column is read from ``.remora/config.toml`` with ``tomllib`` until then).
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remora_core.editor.linemap import line_map
from remora_core.errors import ProjectError, RemoraError
from remora_core.parsing.anchors import DEFAULT_ANCHOR_COLUMN
from remora_core.store.db import database_path
from remora_core.store.store import Store

if TYPE_CHECKING:
    from remora_core.config import RemoraConfig
    from remora_core.editor.agent_host import AgentHost, Push
    from remora_core.graph.live import LiveGraph

AGENT_REQUESTS: tuple[str, ...] = (
    "chat", "stop", "cancel", "panel", "pending", "accept", "reject", "reindex", "tools", "tool_call", "ghost",
    "ghost_plan",
)


class EditorError(RemoraError):
    """A request from the editor cannot be served."""


@functools.lru_cache(maxsize=64)
def _resolved(raw: str) -> Path:
    """``Path(raw).resolve()``: a walk of lstat calls, made once per root string (every request
    names its root; the panel asks several times a second)."""
    return Path(raw).resolve()


def _root(params: dict[str, Any]) -> Path:
    raw = params.get("root")
    if not isinstance(raw, str) or not raw:
        raise EditorError(f"request without a project root (got {raw!r})")
    root = _resolved(raw)
    if not root.is_dir():
        _resolved.cache_clear()  # moved or deleted: resolve afresh next time
        raise ProjectError(f"project root {raw!r} is not a directory")
    return root


def _quick_anchor_column(root: Path) -> int | None:
    """``[index] anchor_column`` of ``.remora/config.toml`` read without the config model
    (pydantic): the default when the file does not exist, None when it must be validated."""
    path = database_path(root).parent / "config.toml"  # remora_core.config.config_path
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DEFAULT_ANCHOR_COLUMN
    except (OSError, ValueError):
        return None  # the full load says what is wrong
    index = data.get("index", {})
    column = index.get("anchor_column", DEFAULT_ANCHOR_COLUMN) if isinstance(index, dict) else None
    if isinstance(column, int) and not isinstance(column, bool) and 20 <= column <= 1000:
        return column
    return None


def _rel(root: Path, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        raise ProjectError(f"{path!r} is not inside the project {str(root)!r}") from None


def _no_push(kind: str, payload: Any) -> None:
    pass


class EditorService:
    """State shared by every request of one Neovim session (stores, configs, event positions)."""

    def __init__(self) -> None:
        self.stores: dict[Path, Store] = {}
        self.graphs: dict[Path, LiveGraph] = {}
        self.configs: dict[Path, RemoraConfig] = {}
        self.hub_checked: set[Path] = set()
        self.methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "ping": lambda params: "pong",
            "anchors": self.anchors,
            "linemap": self.linemap,
            "node_info": self.node_info,
            "health": self.health,
            "events": self.events,
            "hub": self.hub,
            "index": self.index,
            "reload_config": self.reload_config,
            "node_state": self.node_state,
            "node_state_tools": self.node_state_tools,
            "node_state_run": self.node_state_run,
        }
        self.agents: AgentHost | None = None
        self.push: Push = _no_push
        for name in AGENT_REQUESTS:
            self.methods["agent_" + name] = self._agent_request(name)

    # -- agents ---------------------------------------------------------------------------
    def start_agents(self, push: Push) -> AgentHost:
        """Start the agent runtime (a thread imports it at once); ``push`` must be thread-safe.
        Its services share this service's connections (one per database per process)."""
        from remora_core.editor.agent_host import AgentHost

        self.push = push
        if self.agents is None:
            self.agents = AgentHost(push, lambda root: self.store(root), self.graph)
        return self.agents

    def _agent_request(self, name: str) -> Callable[[dict[str, Any]], Any]:
        """Agent requests answer with a coroutine: the caller awaits it on its event loop."""

        def handler(params: dict[str, Any]) -> Any:
            host = self.agents or self.start_agents(self.push)
            return host.call(name, params)

        return handler

    # -- plumbing -----------------------------------------------------------------------
    def store(self, root: Path, *, create: bool = False) -> Store | None:
        """The root's store; ``None`` when there is no database yet and ``create`` is false."""
        store = self.stores.get(root)
        if store is None:
            if not create and not database_path(root).exists():
                return None
            store = Store.open(root)
            self.stores[root] = store
        return store

    def graph(self, root: Path) -> LiveGraph | None:
        """The root's live topology graph (followed on the running loop); ``None`` without an index."""
        graph = self.graphs.get(root)
        if graph is None:
            if not database_path(root).exists():
                return None
            from remora_core.graph.live import LiveGraph

            graph = LiveGraph(root)
            self.graphs[root] = graph
            try:
                graph.start()
            except RuntimeError:
                pass  # no running loop (a test): queries catch up on read
        return graph

    def config(self, root: Path) -> RemoraConfig:
        config = self.configs.get(root)
        if config is None:
            from remora_core.config import load_config

            config = load_config(root)
            self.configs[root] = config
        return config

    def anchor_column(self, root: Path) -> int:
        """The root's anchor column, without loading the config model when it can be avoided."""
        config = self.configs.get(root)
        if config is None:
            column = _quick_anchor_column(root)
            if column is not None:
                return column
            config = self.config(root)
        return config.index.anchor_column

    def call(self, method: str, params: dict[str, Any]) -> Any:
        handler = self.methods.get(method)
        if handler is None:
            raise EditorError(f"unknown request {method!r}")
        return handler(params or {})

    def close(self) -> None:
        if self.agents is not None:
            self.agents.close()
            self.agents = None
        for graph in self.graphs.values():
            graph.close()
        self.graphs.clear()
        for store in self.stores.values():
            store.close()
        self.stores.clear()

    # -- buffers --------------------------------------------------------------------------
    def anchors(self, params: dict[str, Any]) -> list[dict[str, object]]:
        """Line edits adding the anchors a buffer lacks (BufWritePre)."""
        root = _root(params)
        lines: Sequence[str] = params.get("lines") or []
        rel = _rel(root, str(params.get("path", "")))
        column = self.anchor_column(root)
        from remora_core.editor.buffer_ids import anchor_line_edits

        return [edit.as_dict() for edit in anchor_line_edits(lines, rel, root, self.store(root), column)]

    def linemap(self, params: dict[str, Any]) -> dict[str, Any]:
        root = _root(params)
        rel = _rel(root, str(params.get("path", "")))
        column = self.anchor_column(root)
        result = line_map(params.get("lines") or [], rel, root, self.store(root), column)
        result["buf"] = params.get("buf")
        result["tick"] = params.get("tick")
        result["root"] = str(root)
        return result

    def node_info(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.node_info import node_info

        root = _root(params)
        store = self.store(root)
        node_id = str(params.get("id", ""))
        if store is None:
            raise EditorError(f"no index for {str(root)!r} yet: run ':Remora index'")
        info = node_info(store, node_id, event_limit=int(params.get("limit", 20)), graph=self.graph(root))
        info["root"] = str(root)
        return info

    def node_state(self, params: dict[str, Any]) -> dict[str, Any]:
        """The node-state panel section (``remora_core.editor.node_state``)."""
        from remora_core.editor.node_state import node_state_payload

        root = _root(params)
        store = self.store(root)
        if store is None:
            raise EditorError(f"no index for {str(root)!r} yet: run ':Remora index'")
        return node_state_payload(root, store, str(params.get("id", "")), self.config(root).hub)

    def node_state_tools(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The hub's update tools as form schemas (``{root}``)."""
        from remora_core.editor.node_state import update_tool_schemas

        root = _root(params)
        store = self.store(root)
        if store is None:
            raise EditorError(f"no index for {str(root)!r} yet: run ':Remora index'")
        return update_tool_schemas(root, store, self.config(root).hub)

    def node_state_run(self, params: dict[str, Any]) -> dict[str, Any]:
        """Run one update tool from its form (``{root, tool, arguments}``) -> ``{ok, text}``."""
        from remora_core.editor.node_state import run_update_tool

        root = _root(params)
        store = self.store(root)
        if store is None:
            raise EditorError(f"no index for {str(root)!r} yet: run ':Remora index'")
        arguments = params.get("arguments") or {}
        return run_update_tool(root, store, self.config(root).hub, str(params.get("tool", "")), dict(arguments))

    # -- project -------------------------------------------------------------------------
    def health(self, params: dict[str, Any]) -> dict[str, Any]:
        from remora_core.editor.health import project_health

        return project_health(_root(params))

    def events(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Events after ``after`` (or the last ``limit`` ones), as summaries, oldest first."""
        from remora_core.editor.events import event_summary
        from remora_core.events.store import EventLog

        root = _root(params)
        store = self.store(root)
        if store is None:
            return []
        log = EventLog(store.connection)
        limit = int(params.get("limit", 50))
        after = params.get("after")
        if after is None:
            after = max(0, log.last_seq() - limit)
        return [event_summary(event) for event in log.after(int(after), limit=limit)]

    def hub(self, params: dict[str, Any]) -> dict[str, Any]:
        """``status`` | ``start`` | ``stop`` | ``restart`` (blocking: run it off the host's loop)."""
        from remora_core.hub.control import ensure_hub, stop_hub
        from remora_core.hub.status import hub_status

        root = _root(params)
        action = params.get("action", "status")
        if action == "status":
            status = hub_status(root)
        elif action == "start":
            status = ensure_hub(root)
        elif action == "stop":
            status = stop_hub(root)
        elif action == "restart":
            stop_hub(root)
            status = ensure_hub(root)
        else:
            raise EditorError(f"unknown hub action {action!r} (status, start, stop, restart)")
        return {"action": action, "message": status.describe(), **status.as_json()}

    def index(self, params: dict[str, Any]) -> dict[str, Any]:
        """Index the project in a subprocess (never parse a project on the editor host's threads)."""
        root = _root(params)
        command = [sys.executable, "-m", "remora_core.cli", "index", str(root)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=str(root), check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise EditorError(f"cannot run {' '.join(command)!r}: {error}") from None
        output = (done.stdout + done.stderr).strip()
        if done.returncode != 0:
            raise EditorError(f"'remora index {str(root)!r}' failed (exit {done.returncode}): {output[-500:]}")
        self.configs.pop(root, None)
        first = output.splitlines()[0] if output else "indexed"
        return {"code": done.returncode, "output": output, "message": first}

    def reload_config(self, params: dict[str, Any]) -> dict[str, Any]:
        """Read ``.remora/config.toml`` again (it changed). A bad edit keeps the last good config and
        says why; a good one replaces it, and the agent runtime of the root starts over with it."""
        from remora_core.config import load_config

        root = _root(params)
        try:
            config = load_config(root)
        except RemoraError as error:
            return {"ok": False, "message": f"{error} (the last good configuration stays in use)"}
        self.configs[root] = config
        if self.agents is not None:
            self.agents.forget(root)
        return {"ok": True, "message": f"configuration of {str(root)!r} reloaded"}

    def needs_hub(self, root: Path) -> bool:
        """True the first time a root is seen while its hub is not running."""
        if root in self.hub_checked:
            return False
        self.hub_checked.add(root)
        from remora_core.hub.status import hub_status

        return not hub_status(root).running
