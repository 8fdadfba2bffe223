"""The diff bundle of one changed node: standard (unified lines), structural (signature,
annotations, decorators, bases), AST (complexity and control-flow delta) and semantic drift."""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import BaseModel, Field

from remora_core.hub.state.analysis import NodeFacts, facts
from remora_core.hub.state.drift import DriftMethod, Embedder, drift

ChangeKind = Literal["added", "changed"]


class StandardDiff(BaseModel):
    unified: str = ""
    added_lines: int = 0
    removed_lines: int = 0


class StructuralDiff(BaseModel):
    signature_changed: bool = False
    old_signature: str | None = None
    new_signature: str | None = None
    changes: list[str] = Field(default_factory=list)  # human-readable items


class AstDiff(BaseModel):
    old_complexity: int | None = None
    new_complexity: int | None = None
    complexity_delta: int = 0
    control_flow_delta: dict[str, int] = Field(default_factory=dict)  # only keys that moved


class SemanticDiff(BaseModel):
    method: DriftMethod = "lexical"
    distance: float = 0.0
    note: str = ""


class DiffBundle(BaseModel):
    node_id: str
    node_type: str
    qualname: str
    kind: ChangeKind
    public: bool
    standard: StandardDiff = Field(default_factory=StandardDiff)
    structural: StructuralDiff = Field(default_factory=StructuralDiff)
    ast: AstDiff = Field(default_factory=AstDiff)
    semantic: SemanticDiff = Field(default_factory=SemanticDiff)
    old_exports: list[str] | None = None
    new_exports: list[str] | None = None

    def brief(self) -> dict[str, object]:
        """The bundle without the unified text (for events and the triage prompt)."""
        data = self.model_dump(mode="json")
        data["standard"].pop("unified", None)
        return data


def _structural(old: NodeFacts, new: NodeFacts) -> StructuralDiff:
    changes: list[str] = []
    old_params, new_params = old.parameters, new.parameters
    for name in new_params:
        if name not in old_params:
            changes.append(f"parameter {name!r} added")
        elif old_params[name] != new_params[name]:
            changes.append(f"annotation of {name!r}: {old_params[name] or '-'} -> {new_params[name] or '-'}")
    changes.extend(f"parameter {name!r} removed" for name in old_params if name not in new_params)
    if list(old_params) != list(new_params) and set(old_params) == set(new_params):
        changes.append("parameters reordered")
    if old.returns != new.returns:
        changes.append(f"return annotation: {old.returns or '-'} -> {new.returns or '-'}")
    if old.decorators != new.decorators:
        changes.append(f"decorators: {old.decorators} -> {new.decorators}")
    if old.bases != new.bases:
        changes.append(f"bases: {old.bases} -> {new.bases}")
    signature_changed = old.signature != new.signature or old.decorators != new.decorators
    if signature_changed and not changes and old.signature != new.signature:
        changes.append("signature changed")  # e.g. defaults
    return StructuralDiff(
        signature_changed=signature_changed,
        old_signature=old.signature,
        new_signature=new.signature,
        changes=changes,
    )


def build_bundle(
    node_id: str,
    node_type: str,
    qualname: str,
    name: str,
    old_source: str | None,
    new_source: str,
    *,
    embedder: Embedder | None = None,
    new_facts: NodeFacts | None = None,
    old_facts: NodeFacts | None = None,
) -> DiffBundle:
    """The bundle of ``old_source`` (``None``: the node is new) -> ``new_source``."""
    new = new_facts or facts(new_source, node_type)
    public = not name.startswith("_") or (name.startswith("__") and name.endswith("__"))
    if old_source is None:
        return DiffBundle(
            node_id=node_id,
            node_type=node_type,
            qualname=qualname,
            kind="added",
            public=public,
            standard=StandardDiff(added_lines=len(new_source.splitlines())),
            structural=StructuralDiff(new_signature=new.signature),
            ast=AstDiff(new_complexity=new.complexity),
            new_exports=new.exports if node_type == "file" else None,
        )
    old = old_facts or facts(old_source, node_type)
    lines = list(
        difflib.unified_diff(
            old_source.splitlines(keepends=True), new_source.splitlines(keepends=True), "before", "after", n=2
        )
    )
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    flow_delta = {
        key: new.control_flow.get(key, 0) - old.control_flow.get(key, 0)
        for key in new.control_flow
        if new.control_flow.get(key, 0) != old.control_flow.get(key, 0)
    }
    distance, method, note = drift(old_source, new_source, embedder)
    return DiffBundle(
        node_id=node_id,
        node_type=node_type,
        qualname=qualname,
        kind="changed",
        public=public,
        standard=StandardDiff(unified="".join(lines), added_lines=added, removed_lines=removed),
        structural=_structural(old, new) if old.parsed and new.parsed else StructuralDiff(),
        ast=AstDiff(
            old_complexity=old.complexity if old.parsed else None,
            new_complexity=new.complexity if new.parsed else None,
            complexity_delta=new.complexity - old.complexity if old.parsed and new.parsed else 0,
            control_flow_delta=flow_delta if old.parsed and new.parsed else {},
        ),
        semantic=SemanticDiff(method=method, distance=distance, note=note),
        old_exports=old.exports if node_type == "file" else None,
        new_exports=new.exports if node_type == "file" else None,
    )
