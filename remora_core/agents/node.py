"""``ASTAgentNode``: the one base prompt every agent is sent with, and its hydration from the index.

Extra context (node state, summaries: the hub plugs those in later) comes from
``ContextProvider`` callables: each gets the hydrated node and returns an extra prompt
section (or None), placed before the core rules.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from remora_core.agents.context import AgentContext
from remora_core.agents.core_tools import CORE_TOOL_NAMES, CoreTools, describe_node
from remora_core.agents.extensions import ExtensionNode, ExtensionRegistry
from remora_core.agents.recovery import strip_anchors
from remora_core.agents.tools import ToolSet, collect_tools
from remora_core.errors import NodeNotFoundError
from remora_core.graph.live import GraphReader
from remora_core.graph.topology import TopologyGraph
from remora_core.languages import language_of
from remora_core.parsing.anchors import source_hash
from remora_core.project import node_source
from remora_core.store.store import Store

_TEMPLATE = """\
You are an autonomous AI agent embodying a {language} {node_type}: `{name}`

# Identity
- Node ID: {remora_id}
- Location: {file_path}:{start_line}-{end_line}
- Parent: {parent}

# Your Source Code
```{fence}
{source_code}
```

# Graph Context
- Called by: {callers}
- You call: {callees}

# Custom Instructions
{custom_system_prompt}

# Available Data
{mounted_workspaces}
{extra}
# Core Rules
1. You may ONLY edit your own body using `rewrite_self()`.
2. To request changes elsewhere, use `message_node(target_id, request)`.
3. Your parent can edit you. You cannot edit your parent.
4. All edits are proposals until the human approves.
"""


_COMPACT = """\
You are the agent of the {language} {node_type} `{name}` (ID {remora_id}) in {file_path}, lines {start_line}-{end_line}.
Parent: {parent}
Called by: {callers}
You call: {callees}
{sections}
Your current source code:
```{fence}
{source_code}
```

Rules: you may change only your own code, by calling rewrite_self with the complete new source of \
`{short_name}` (without remora ID comments). To get a change made elsewhere, call message_node with \
that node's ID. Every edit is a proposal the human approves. When no tool is needed, answer in plain text.
"""


class ASTAgentNode(BaseModel):
    """The base system prompt's data. ``system_prompt()`` renders it."""

    remora_id: str
    node_type: Literal["function", "class", "method", "file"]
    name: str
    qualname: str = ""
    file_path: str
    start_line: int
    end_line: int
    source_code: str
    source_hash: str = ""  # hash of the source shown to the model

    parent_id: str | None = None
    caller_ids: list[str] = Field(default_factory=list)
    callee_ids: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)  # node id -> one-line description

    custom_system_prompt: str = ""
    mounted_workspaces: str = "None"
    extra_sections: list[str] = Field(default_factory=list)

    tools: list[str] = Field(default_factory=lambda: list(CORE_TOOL_NAMES))

    def _names(self, ids: Sequence[str]) -> str:
        if not ids:
            return "None"
        return ", ".join(self.labels.get(node_id, node_id) for node_id in ids)

    def system_prompt(self, *, compact: bool = False) -> str:
        """The system prompt; ``compact`` is the shorter one for small models (``[agents] prompt``).
        The source is shown without its anchors (they are re-attached when a proposal applies)."""
        parent = self.labels.get(self.parent_id, self.parent_id) if self.parent_id else "None (top-level)"
        language = language_of(self.file_path)
        source = strip_anchors(self.source_code).rstrip("\n")
        if compact:
            sections = [section.strip() for section in self.extra_sections if section.strip()]
            if self.mounted_workspaces.strip() not in ("", "None"):
                sections.insert(0, f"Available data: {self.mounted_workspaces.strip()}")
            if self.custom_system_prompt.strip():
                sections.insert(0, f"Instructions: {self.custom_system_prompt.strip()}")
            return _COMPACT.format(
                language=language.title or language.name.capitalize(),
                fence=language.fence or language.name,
                node_type=self.node_type,
                name=self.qualname or self.name,
                short_name=self.name,
                remora_id=self.remora_id,
                file_path=self.file_path,
                start_line=self.start_line,
                end_line=self.end_line,
                parent=parent,
                callers=self._names(self.caller_ids),
                callees=self._names(self.callee_ids),
                sections="".join(f"{section}\n" for section in sections),
                source_code=source,
            )
        extra = "".join(f"\n{section.strip()}\n" for section in self.extra_sections if section.strip())
        return _TEMPLATE.format(
            language=language.title or language.name.capitalize(),
            fence=language.fence or language.name,
            node_type=self.node_type,
            name=self.qualname or self.name,
            remora_id=self.remora_id,
            file_path=self.file_path,
            start_line=self.start_line,
            end_line=self.end_line,
            parent=parent,
            source_code=source,
            callers=self._names(self.caller_ids),
            callees=self._names(self.callee_ids),
            custom_system_prompt=self.custom_system_prompt.strip() or "None",
            mounted_workspaces=self.mounted_workspaces.strip() or "None",
            extra=extra,
        )


ContextProvider = Callable[[ASTAgentNode], str | None]


@dataclass(slots=True)
class HydratedAgent:
    node: ASTAgentNode
    extension: type[ExtensionNode] | None

    def toolset(self, context: AgentContext) -> ToolSet:
        """Core tools first (an extension cannot replace them), then the extension's tools."""
        tools = ToolSet(collect_tools(CoreTools(context)))
        if self.extension is not None:
            tools.extend(self.extension(context).get_tools())
        return tools


def hydrate_agent(
    root: Path,
    store: Store,
    node_id: str,
    *,
    registry: ExtensionRegistry | None = None,
    providers: Sequence[ContextProvider] = (),
    graph: GraphReader | None = None,
) -> HydratedAgent:
    """Build the agent of ``node_id``: its row, current source, graph context (callers and
    callees from ``graph``, the process's live graph; a fresh view of the store without one)
    and extension."""
    row = store.node(node_id)
    if row is None:
        raise NodeNotFoundError(f"no node {node_id!r} in the index")
    source = node_source(root, row)
    view = graph if graph is not None else TopologyGraph(store.connection)
    callers = view.callers(node_id)
    callees = view.callees(node_id)
    related = [*callers, *callees, *([row.parent_id] if row.parent_id else [])]
    labels = {node: describe_node(view.node(node)) for node in related}
    node = ASTAgentNode(
        remora_id=row.id,
        node_type=row.node_type,
        name=row.name,
        qualname=row.qualname,
        file_path=row.file_path,
        start_line=row.start_line,
        end_line=row.end_line,
        source_code=source,
        source_hash=source_hash(source.encode("utf-8")),
        parent_id=row.parent_id,
        caller_ids=callers,
        callee_ids=callees,
        labels=labels,
    )
    extension = registry.match(row.node_type, row.name) if registry is not None else None
    if extension is not None:
        instance = extension()
        node.custom_system_prompt = inspect.cleandoc(extension.system_prompt or "")
        node.mounted_workspaces = instance.get_workspaces()
        node.tools.extend(
            bound.spec.name for bound in instance.get_tools() if bound.spec.name not in node.tools
        )
    for provider in providers:
        section = provider(node)
        if section:
            node.extra_sections.append(section)
    return HydratedAgent(node, extension)
