"""The Datastar dashboard: the page at ``/`` and the HTML fragments ``/v1/stream`` patches in.

Server-driven: the page holds no state but a few signals (the token from the URL fragment,
the chat and feedback text); everything it shows arrives as ``datastar-merge-fragments``
events rendered here with ``datastar_py`` 0.4 (the protocol of the Datastar 1.0.0-beta.11
client, the newest on npm).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from html import escape
from typing import Any

from datastar_py.sse import ServerSentEventGenerator as SSE

from remora_core.service import models as m

LOG_ROWS = 50
TREE_LIMIT = 3000
AUTH = "{headers: {Authorization: 'Bearer ' + $token}}"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Remora</title>
<script type="module" src="{script}"></script>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 22em 1fr 28em;
       grid-template-rows: auto 1fr; height: 100vh; }}
header {{ grid-column: 1 / 4; padding: .4em 1em; background: #123; color: #eee; display: flex; gap: 2em; }}
section {{ overflow: auto; padding: .5em; border-right: 1px solid #ccc; }}
pre {{ background: #f6f6f6; padding: .5em; overflow: auto; font-size: 12px; }}
.add {{ color: #060; }} .del {{ color: #a00; }}
#log li {{ font-family: monospace; font-size: 12px; list-style: none; }}
button.node {{ border: 0; background: none; cursor: pointer; text-align: left; padding: 0; }}
</style></head>
<body data-signals="{{token: '', message: '', feedback: ''}}"
      data-on-load="$token = new URLSearchParams(location.hash.slice(1)).get('token') || ''; @get('/v1/stream', {auth})">
<header><b>Remora</b><span id="status">connecting...</span><span id="flash"></span></header>
<section><h3>Nodes</h3><div id="tree"></div></section>
<section><div id="detail"><p>Pick a node.</p></div>
  <h3>Pending proposals</h3><div id="proposals"></div></section>
<section><h3>Events</h3><ul id="log"></ul></section>
</body></html>
"""


def page(script: str) -> str:
    return PAGE.format(script=escape(script, quote=True), auth=AUTH)


def patch(html: str, selector: str | None = None, mode: str | None = None) -> str:
    return str(SSE.merge_fragments(html, selector=selector, merge_mode=mode, use_view_transition=False))  # type: ignore[arg-type]


def signals(values: dict[str, Any]) -> str:
    return str(SSE.merge_signals(values))


def status_html(health: m.Health, connected: int) -> str:
    hub = health.hub
    hub_text = f"hub: {hub.state or 'running'} (pid {hub.pid})" if hub.running else "hub: not running"
    runner = health.runner
    where = "in this server" if runner.in_process else "elsewhere"
    return (
        f'<span id="status">{escape(hub_text)} · runner {where}: {runner.running} running, '
        f"{runner.queued} queued · event {health.last_seq} · {connected} viewers</span>"
    )


def tree_html(rows: Iterable[tuple[str, str, str, str, str | None]]) -> str:
    by_file: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for count, (node_id, node_type, name, file_path, _parent) in enumerate(rows):
        if count >= TREE_LIMIT:
            break
        by_file[file_path].append((node_id, node_type, name))
    parts = ['<div id="tree">']
    for file_path in sorted(by_file):
        parts.append(f"<details><summary>{escape(file_path)}</summary><ul>")
        for node_id, node_type, name in sorted(by_file[file_path], key=lambda item: (item[1] != "file", item[2])):
            parts.append(
                f'<li><button class="node" id="node-{escape(node_id)}" '
                f"data-on-click=\"@get('/v1/ui/node/{escape(node_id)}', {AUTH})\">"
                f"{escape(node_type)} {escape(name)}</button></li>"
            )
        parts.append("</ul></details>")
    parts.append("</div>")
    return "".join(parts)


def diff_html(diff: str) -> str:
    lines = []
    for line in diff.splitlines():
        cls = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        lines.append(f'<span class="{cls}">{escape(line)}</span>')
    return "<pre>" + "\n".join(lines) + "</pre>"


def proposals_html(proposals: list[m.ProposalOut]) -> str:
    parts = ['<div id="proposals">']
    if not proposals:
        parts.append("<p>None.</p>")
    for proposal in proposals:
        pid = escape(proposal.id)
        parts.append(
            f'<div class="proposal" id="proposal-{pid}"><b>{pid}</b> {escape(proposal.kind)} of '
            f"{escape(proposal.node_id)} in {escape(proposal.file_path)}{diff_html(proposal.diff)}"
            f'<button id="approve-{pid}" data-on-click="@post(\'/v1/ui/approve/{pid}\', {AUTH})">Approve</button> '
            f'<input data-bind-feedback placeholder="feedback"> '
            f'<button id="reject-{pid}" data-on-click="@post(\'/v1/ui/reject/{pid}\', {AUTH})">Reject</button></div>'
        )
    parts.append("</div>")
    return "".join(parts)


def state_html(state: m.NodeState | None) -> str:
    """The node's hub state: freshness, signature, complexity and trend, tests, summary, markdown."""
    if state is None:
        return ""
    head = f'<div id="node-state" data-freshness="{escape(state.freshness)}"><h4>Hub state: {escape(state.freshness)}</h4>'
    if state.freshness == "missing":
        return head + "<p>No state yet (the hub builds it on save, or run <code>remora update</code>).</p></div>"
    trend = " → ".join(str(value) for value in state.complexity_trend) or "-"
    tests = "".join(
        f"<li>{escape(test.test_id)} ({escape(test.how)}): <b>{escape(test.last_result)}</b></li>" for test in state.tests
    )
    markdown = escape(state.markdown) if state.markdown else "-"
    return (
        f"{head}<p>signature: <code>{escape(state.signature or '-')}</code><br>"
        f"complexity: {state.complexity if state.complexity is not None else '-'} (trend {escape(trend)})<br>"
        f"summary: {escape(state.summary or '-')}<br>markdown: <code>{markdown}</code></p>"
        f"<p>tests:</p><ul>{tests or '<li>none mapped</li>'}</ul></div>"
    )


def detail_html(node: m.NodeDetail, state: m.NodeState | None = None) -> str:
    nid = escape(node.id)
    parent = f"{escape(node.parent.qualname)} ({escape(node.parent.id)})" if node.parent else "-"
    callers = ", ".join(escape(ref.qualname) for ref in node.callers) or "-"
    callees = ", ".join(escape(ref.qualname) for ref in node.callees) or "-"
    return (
        f'<div id="detail"><h3>{escape(node.type)} {escape(node.qualname)} <small>{nid}</small></h3>'
        f"<p>{escape(node.file)}:{node.start_line}-{node.end_line} · parent {parent}<br>"
        f"callers: {callers}<br>callees: {callees}</p>"
        f"<pre>{escape(node.source)}</pre>{state_html(state)}"
        f'<input id="chat-input" data-bind-message placeholder="ask this node\'s agent" size="50"> '
        f'<button id="chat-send" data-on-click="@post(\'/v1/ui/chat/{nid}\', {AUTH})">Send</button>'
        f'<div id="chat-status"></div></div>'
    )


def _summary(event: dict[str, Any]) -> str:
    for key in ("message", "result", "error", "tool_name", "proposal_id", "file_path", "reason"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value if len(value) <= 80 else value[:77] + "..."
    return ""


def log_row(event: dict[str, Any]) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(float(event.get("timestamp") or 0)))
    node = event.get("agent_id") or event.get("to_agent") or ""
    return (
        f'<li id="ev-{int(event["seq"])}" data-kind="{escape(str(event.get("kind")))}">{stamp} '
        f"#{int(event['seq'])} {escape(str(event.get('event_type')))} {escape(str(node))} "
        f"{escape(_summary(event))}</li>"
    )


def log_html(events: list[dict[str, Any]]) -> str:
    return '<ul id="log">' + "".join(log_row(event) for event in events[-LOG_ROWS:]) + "</ul>"


def flash_html(text: str) -> str:
    return f'<span id="flash">{escape(text)}</span>'
