"""How a turn talks to its model: what kind of request it is, which tools are offered, which
``tool_choice`` is sent (``[llm] tool_choice``), and the code-block fallback's inputs.

A request is an *edit* (the human wants this node changed: "add type hints", a rejected
proposal's feedback), a *delegation* (it names another node by id, or asks to ask / tell /
message someone) or *other* (a question). With ``tool_choice = "per_step"`` an edit forces
``rewrite_self`` and a delegation forces ``message_node`` in the first round, then ``auto``; a
request that names exactly one tool (the editor's ghost asks for ``propose_new_node``) forces
that one, and a tool a request names is always offered.
With ``[agents] prompt = "compact"`` (default) an edit request is offered only the tools an
edit needs and every tool is described by its first sentence.

``tool_choice = "code_block"`` is the strategy for small local models (issue #12 item 9): an
edit request is sent with no tools and a tiny prompt (the source without anchors, the task last,
asking for ONE fenced Python block with the whole definition), which the code-block fallback
turns into a ``rewrite_self`` proposal (asked once more when the reply has no usable block);
a delegation forces ``message_node`` as ``per_step`` does; anything else is ``auto``.
"""

from __future__ import annotations

import re
import textwrap
from typing import Literal

from remora_core.agents.loop import TurnPolicy
from remora_core.agents.node import ASTAgentNode
from remora_core.agents.recovery import strip_anchors
from remora_core.config import RemoraConfig
from remora_core.languages import language_of

RequestKind = Literal["edit", "delegate", "other"]
EDIT_TOOLS: tuple[str, ...] = ("rewrite_self", "read_node", "message_node")
DELEGATE_TOOLS: tuple[str, ...] = ("message_node", "ask_parent", "read_node", "get_my_callees", "get_my_callers")
FEEDBACK_PREFIX = "The human rejected your proposal"

_EDIT_RE = re.compile(
    r"\b(add|adds|rewrite|refactor|fix|change|rename|implement|remove|delete|update|convert|make|"
    r"annotate|type[- ]hints?|typing|docstrings?|optimi[sz]e|simplify|edit|modify|improve|replace|"
    r"handle|validate|clean|reformat|propose|use|return|raise|extract|inline|write|create|generate|"
    r"reject|check|ensure|guard|accept|support)\b",
    re.IGNORECASE,
)
_DELEGATE_RE = re.compile(r"\b(ask|tell|message|notify|request|delegate)\b", re.IGNORECASE)
_ID_RE = re.compile(r"\brm_[a-z0-9]{8}\b")
_QUESTION_RE = re.compile(r"^\s*(what|why|how|who|where|when|which|explain|describe|list|show|is|are|does|do|can)\b", re.IGNORECASE)


def classify_request(message: str, own_id: str) -> RequestKind:
    """``edit``, ``delegate`` or ``other`` (see the module docstring)."""
    if message.startswith(FEEDBACK_PREFIX):
        return "edit"
    others = {found for found in _ID_RE.findall(message) if found != own_id}
    if others or _DELEGATE_RE.search(message):
        return "delegate"
    if _QUESTION_RE.match(message) and not message.rstrip().endswith((".", "!")):
        return "other"
    return "edit" if _EDIT_RE.search(message) else "other"


def turn_policy(config: RemoraConfig, node: ASTAgentNode, message: str, tool_names: list[str]) -> TurnPolicy:
    """The policy of one turn of ``node`` answering ``message``."""
    kind = classify_request(message, node.remora_id)
    compact = config.agents.prompt == "compact"
    named = [name for name in tool_names if re.search(rf"\b{re.escape(name)}\b", message)]
    offered: tuple[str, ...] | None = None
    if compact and kind in ("edit", "delegate"):
        wanted = EDIT_TOOLS if kind == "edit" else DELEGATE_TOOLS
        offered = tuple(name for name in tool_names if name in wanted or name in named or name not in _CORE)
    python = language_of(node.file_path).name == "python"  # the code-block fallback reads Python blocks
    if (
        config.llm.tool_choice == "code_block" and python and kind == "edit" and node.node_type != "file"
        and "rewrite_self" in tool_names
    ):
        return code_block_policy(node)
    force: str | None = None
    if config.llm.tool_choice in ("per_step", "code_block"):
        # a request naming exactly one tool (the editor's ghost asks for propose_new_node) forces it
        force = named[0] if len(named) == 1 else {"edit": "rewrite_self", "delegate": "message_node"}.get(kind)
        if force is not None and force not in tool_names:
            force = None
    if config.llm.tool_choice == "code_block" and force == "message_node":
        return delegate_policy(node, message)
    return TurnPolicy(
        tool_choice=config.llm.tool_choice,
        edit_request=kind == "edit",
        own_name=node.name if node.node_type != "file" else None,
        own_source=node.source_code,
        tool_names=offered,
        short_schemas=compact,
        force_tool=force,
    )


_CORE = frozenset(
    ("rewrite_self", "message_node", "ask_parent", "get_my_callers", "get_my_callees", "read_node", "propose_new_node")
)


_BLOCK_SYSTEM = """\
You edit one Python {node_type}, `{name}`, in {file_path}.

Its current source:
```python
{source}
```"""


def block_request(node: ASTAgentNode) -> str:
    """What a ``code_block`` edit appends to the task: the one answer format a small model follows."""
    return f"\n\nReply with ONE fenced ```python block holding the complete new `{node.name}` {node.node_type}, nothing else."


def code_block_policy(node: ASTAgentNode) -> TurnPolicy:
    """An edit request for a small model: no tools, the tiny prompt, the task last (see the module docstring)."""
    source = textwrap.dedent(strip_anchors(node.source_code)).strip("\n")
    system = _BLOCK_SYSTEM.format(node_type=node.node_type, name=node.name, file_path=node.file_path, source=source)
    return TurnPolicy(
        tool_choice="code_block",
        edit_request=True,
        own_name=node.name,
        own_source=node.source_code,
        tool_names=(),
        short_schemas=True,
        system_prompt=system,
        task_suffix=block_request(node),
        block_retries=1,
    )


_DELEGATE_SYSTEM = """\
You are the agent of the {language} {node_type} `{name}` in {file_path} (ID {remora_id}).
Nodes you know: {known}.
You cannot change other nodes. To get something from another node, call message_node with that node's ID \
as target_id and your request to it as request."""


def delegate_policy(node: ASTAgentNode, message: str) -> TurnPolicy:
    """A request for another node, for a small model: only ``message_node``, forced once, with a
    tiny prompt naming the nodes it knows by ID; the round after it has no tools (the answer)."""
    related = [*node.callee_ids, *node.caller_ids, *([node.parent_id] if node.parent_id else [])]
    known = "; ".join(node.labels.get(node_id, node_id) for node_id in dict.fromkeys(related)) or "none"
    language = language_of(node.file_path)
    system = _DELEGATE_SYSTEM.format(
        language=language.title or language.name.capitalize(),
        node_type=node.node_type, name=node.qualname or node.name, file_path=node.file_path,
        remora_id=node.remora_id, known=known,
    )
    return TurnPolicy(
        tool_choice="code_block",
        own_name=node.name if node.node_type != "file" else None,
        own_source=node.source_code,
        tool_names=("message_node",),
        short_schemas=True,
        force_tool="message_node",
        system_prompt=system,
        tools_after_force=False,
    )
