"""``NodeState``: what the hub knows about one node, stored as JSON under ``node:{id}:state``."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TestOutcome = Literal["passed", "failed", "error", "timeout", "not run"]


def state_key(node_id: str) -> str:
    return f"node:{node_id}:state"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NodeRef(_Model):
    """Another node, with a place a reader can jump to."""

    id: str
    qualname: str
    file_path: str
    line: int


class CallSite(_Model):
    """One call of this node: the calling node and the file:line of the call."""

    caller_id: str
    caller: str
    file_path: str
    line: int
    text: str = ""


class TestRecord(_Model):
    __test__ = False
    test_id: str  # pytest node id: path::[Class::]name
    file_path: str
    line: int
    how: Literal["name", "calls", "skeleton"] = "name"
    last_result: TestOutcome = "not run"
    last_run: float | None = None
    duration: float | None = None


class ComplexityPoint(_Model):
    timestamp: float
    source_version: str
    value: int


class SimilarNode(_Model):
    id: str
    qualname: str
    file_path: str
    line: int
    score: float


class ChangeRecord(_Model):
    timestamp: float
    source_version: str
    kind: Literal["added", "changed", "hint", "build"]
    signals: list[str] = Field(default_factory=list)
    summary: str = ""


class ImpactSummary(_Model):
    timestamp: float
    old_signature: str | None
    new_signature: str | None
    call_sites: list[CallSite] = Field(default_factory=list)


class NodeState(_Model):
    id: str
    type: str
    name: str
    qualname: str
    file_path: str
    start_line: int
    end_line: int
    source_version: str  # hash of the source the state was computed from
    status: Literal["active", "orphaned"] = "active"

    signature: str | None = None
    decorators: list[str] = Field(default_factory=list)
    docstring: str | None = None
    complexity: int | None = None
    control_flow: dict[str, int] = Field(default_factory=dict)
    complexity_history: list[ComplexityPoint] = Field(default_factory=list)

    parent: NodeRef | None = None
    callers: list[NodeRef] = Field(default_factory=list)
    callees: list[NodeRef] = Field(default_factory=list)
    call_sites: list[CallSite] = Field(default_factory=list)
    tests: list[TestRecord] = Field(default_factory=list)
    skeleton_path: str | None = None
    similar: list[SimilarNode] = Field(default_factory=list)
    exports: list[str] = Field(default_factory=list)
    summary: str = ""
    impact: ImpactSummary | None = None
    changes: list[ChangeRecord] = Field(default_factory=list)

    updated: dict[str, float] = Field(default_factory=dict)  # update name -> last run time
    last_updated: float = Field(default_factory=time.time)
    markdown_path: str | None = None  # relative to the root

    @property
    def key(self) -> str:
        return state_key(self.id)
