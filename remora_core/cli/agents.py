"""The agent subcommands of ``remora`` (headless: the whole agent loop without Neovim).

    remora chat NODE "message" [--wait]
    remora proposals [--json] [--all]
    remora approve PROPOSAL_ID [--hunks 1,3]
    remora reject PROPOSAL_ID --feedback "..." [--wait]
    remora status NODE [--json]
    remora stop NODE
    remora ghost FILE LINE "instruction" [--wait]
    remora tools NODE [--json]
    remora tool NODE NAME ['{"argument": "value"}']
    remora events [--follow] [--json] [--node ID] [--after SEQ] [--timeout S]
    remora run [--once]
    remora cancel CORRELATION_ID

``NODE`` is an id or a name / qualified name naming one node. ``register(subparsers)`` adds
them to ``remora``'s parser. Every command is a thin call into the engine facade; user errors
raise ``RemoraError`` (one line on stderr, exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from remora_core.cli.common import open_engine, print_json, root_option
from remora_core.errors import RemoraError

if TYPE_CHECKING:  # the agent runtime (and openai) is imported only by the commands that run
    from remora_core.agents.proposal_model import Proposal
    from remora_core.agents.triggers import Trigger
    from remora_core.engine.facade import Engine as AgentService
    from remora_core.events.models import BaseEvent

_service = open_engine



_T = TypeVar("_T")


def _run_async(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run``, imported on first use (asyncio and ssl cost every other command ~50 ms)."""
    import asyncio

    return asyncio.run(coroutine)


def _print_proposal(proposal: Proposal, *, diff: bool = True) -> None:
    print(
        f"proposal {proposal.id}  [{proposal.status}]  {proposal.kind} of {proposal.node_id} in {proposal.file_path}"
    )
    if diff:
        sys.stdout.write(proposal.diff if proposal.diff.endswith("\n") else proposal.diff + "\n")


def _report(service: AgentService, trigger: Trigger) -> int:
    """Print the outcome of a finished turn: the reply and the proposals it made."""
    from remora_core.agents.errors import AgentError

    if trigger.status == "failed":
        raise AgentError(trigger.error or f"the turn of {trigger.agent_id!r} failed")
    if trigger.status == "cancelled":
        raise AgentError(f"the turn of {trigger.agent_id!r} was cancelled")
    print(trigger.reply or "")
    for proposal in service.proposals(status=None):
        if proposal.correlation_id == trigger.correlation_id:
            _print_proposal(proposal)
    return 0


async def _wait(service: AgentService, correlation_id: str) -> Trigger:
    try:
        return await service.wait(correlation_id)
    finally:
        await service.close_runner()


def cmd_chat(args: argparse.Namespace) -> int:
    with _service(args) as service:
        node_id = service.resolve(args.node).id
        correlation_id = service.chat(node_id, args.message, new_conversation=args.new)
        if not args.wait:
            print(f"queued chat to {node_id} (correlation {correlation_id}); run 'remora run' to process it")
            return 0
        return _report(service, _run_async(_wait(service, correlation_id)))


def _proposal_json(proposal: Proposal) -> dict[str, Any]:
    return proposal.model_dump(mode="json")


def cmd_proposals(args: argparse.Namespace) -> int:
    with _service(args) as service:
        proposals = service.proposals(status=None if args.all else "pending", node_id=args.node)
    if args.json:
        print_json([_proposal_json(p) for p in proposals])
        return 0
    if not proposals:
        print("no pending proposals" if not args.all else "no proposals")
    for proposal in proposals:
        _print_proposal(proposal, diff=not args.brief)
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from remora_core.agents.errors import ProposalError

    with _service(args) as service:
        result = service.approve(args.proposal, args.hunks)
    if not result.applied:
        if result.status == "stale":
            raise ProposalError(f"proposal {args.proposal!r} is stale: {result.message}")
        raise ProposalError(result.message)
    first, last = result.changed_range
    at = result.message.find(" (hunks ")
    hunks = result.message[at:] if at >= 0 else ""
    print(f"applied proposal {result.proposal_id} to {result.file_path} (lines {first}-{last}){hunks}")
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    with _service(args) as service:
        rejection = service.reject(args.proposal, args.feedback)
        if rejection.correlation_id is None:
            print(f"rejected proposal {args.proposal}")
            return 0
        if not args.wait:
            print(
                f"rejected proposal {args.proposal}; the agent will retry with the feedback "
                f"(correlation {rejection.correlation_id}); run 'remora run' to process it"
            )
            return 0
        print(f"rejected proposal {args.proposal}; retrying with the feedback")
        return _report(service, _run_async(_wait(service, rejection.correlation_id)))


def _hunks(text: str) -> list[int]:
    """``--hunks 1,3`` (1-based, as ``remora proposals`` numbers them) as 0-based indices."""
    try:
        numbers = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hunk numbers like 1,3, got {text!r}") from None
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"hunk numbers start at 1, got {text!r}")
    return [number - 1 for number in numbers]


def cmd_status(args: argparse.Namespace) -> int:
    with _service(args) as service:
        status = service.status(args.node)
        row = service.resolve(status.node_id)
    if args.json:
        print_json({"node": status.node_id, "qualname": row.qualname, **status.as_dict()})
        return 0
    since = f" since {time.strftime('%H:%M:%S', time.localtime(status.since))}" if status.since else ""
    print(f"{status.node_id} {row.qualname}: {status.state}{since}")
    if status.correlation_id:
        print(f"correlation: {status.correlation_id}")
    if status.error:
        print(f"error: {status.error}")
    for proposal_id in status.pending:
        print(f"pending proposal: {proposal_id}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    with _service(args) as service:
        node_id = service.resolve(args.node).id
        reports = service.stop(node_id)
    if not reports:
        print(f"nothing is running for {node_id}")
        return 0
    for report in reports:
        print(
            f"stopped {node_id}: correlation {report.correlation_id} ({report.queued} queued, "
            f"{report.running} running, {report.proposals} pending proposals cancelled)"
        )
    return 0


def cmd_ghost(args: argparse.Namespace) -> int:
    with _service(args, Path(args.file)) as service:
        ghost = service.ghost(Path(args.file).resolve(), args.line, args.instruction)
        plan = ghost.plan
        after = f" after {plan.insert_after}" if plan.insert_after else " first"
        print(
            f"asked {plan.target} for a new node in {plan.container}{after} "
            f"({plan.file}:{plan.line}, correlation {ghost.correlation_id})"
        )
        if not args.wait:
            print("run 'remora run' to process it")
            return 0
        return _report(service, _run_async(_wait(service, ghost.correlation_id)))


def cmd_tools(args: argparse.Namespace) -> int:
    with _service(args) as service:
        schemas = service.tools(args.node)
    if args.json:
        print_json(schemas)
        return 0
    for schema in schemas:
        function = schema["function"]
        parameters = ", ".join(function["parameters"].get("properties", {}))
        summary = (function.get("description") or "").strip().splitlines()
        print(f"{function['name']}({parameters})  {summary[0] if summary else ''}".rstrip())
    return 0


def cmd_tool(args: argparse.Namespace) -> int:
    with _service(args) as service:
        outcome = _run_async(_call_tool(service, args.node, args.name, args.arguments))
    print(outcome.text)
    if not outcome.ok:
        raise RemoraError(f"tool {args.name!r} failed (correlation {outcome.correlation_id})")
    return 0


async def _call_tool(service: AgentService, node: str, name: str, arguments: str) -> Any:
    try:
        return await service.call_tool(node, name, arguments)
    finally:
        await service.close_runner()


def _summary(event: BaseEvent) -> str:
    data = event.model_dump(mode="json")
    for key in ("event_id", "timestamp", "correlation_id", "agent_id"):
        data.pop(key, None)
    text = " ".join(f"{key}={json.dumps(value)[:80]}" for key, value in data.items())
    return text


def _print_event(event: BaseEvent, as_json: bool) -> None:
    if as_json:
        print(json.dumps(event.envelope(), default=str), flush=True)
        return
    stamp = time.strftime("%H:%M:%S", time.localtime(event.timestamp))
    agent = event.agent_ref() or "-"
    print(
        f"{event.seq:>6} {stamp} {event.event_type:<15} {agent:<12} {event.correlation_id or '-':<15} {_summary(event)}",
        flush=True,
    )


def _matches(event: BaseEvent, node: str | None) -> bool:
    return node is None or node in (event.agent_ref(), event.source_agent())


def cmd_events(args: argparse.Namespace) -> int:
    with _service(args) as service:
        events = service.events(args.after, node_id=args.node, limit=args.limit)
        root = service.root
    for event in events:
        _print_event(event, args.json)
    if not args.follow:
        return 0
    from remora_core.events.tail import EventTailer

    after = max([args.after, *(e.seq or 0 for e in events)]) if events else None
    with EventTailer(root, after=after) as tailer:
        for event in tailer.follow(timeout=args.timeout):
            if _matches(event, args.node):
                _print_event(event, args.json)
    return 0


async def _run(service: AgentService, once: bool) -> list[Trigger]:
    try:
        if once:
            return await service.run_pending()
        await service.run_forever()
        return []
    finally:
        await service.close_runner()


def cmd_run(args: argparse.Namespace) -> int:
    with _service(args) as service:
        finished = _run_async(_run(service, args.once))
    for trigger in finished:
        outcome = trigger.reply if trigger.status == "done" else trigger.error
        print(
            f"{trigger.id} {trigger.agent_id} {trigger.status}: {(outcome or '').splitlines()[0] if outcome else ''}"
        )
    print(f"ran {len(finished)} trigger{'s' if len(finished) != 1 else ''}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with _service(args) as service:
        report = service.cancel(args.correlation)
    print(
        f"cancelled correlation {report.correlation_id}: {report.queued} queued, {report.running} running, "
        f"{report.proposals} pending proposals"
    )
    return 0


def register(subparsers: Any) -> None:
    """Add the agent commands to ``remora``'s subparsers (``parser.add_subparsers(...)``)."""
    chat = subparsers.add_parser("chat", help="send a message to a node's agent")
    chat.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    chat.add_argument("message")
    chat.add_argument(
        "--wait", action="store_true", help="run the turn now and print the reply and proposals"
    )
    chat.add_argument("--new", action="store_true", help="start a new conversation (earlier exchanges are not sent)")
    root_option(chat)
    chat.set_defaults(handler=cmd_chat)

    proposals = subparsers.add_parser(
        "proposals", help="list proposals (pending by default) with their diffs"
    )
    proposals.add_argument("--json", action="store_true")
    proposals.add_argument("--all", action="store_true", help="every status, not only pending")
    proposals.add_argument("--node", help="only proposals for this node id")
    proposals.add_argument("--brief", action="store_true", help="one line each, no diff")
    root_option(proposals)
    proposals.set_defaults(handler=cmd_proposals)

    approve = subparsers.add_parser("approve", help="apply a proposal to its file")
    approve.add_argument("proposal", help="proposal id")
    approve.add_argument(
        "--hunks", type=_hunks, default=None, metavar="N,M", help="apply only these hunks (1-based)"
    )
    root_option(approve)
    approve.set_defaults(handler=cmd_approve)

    reject = subparsers.add_parser("reject", help="reject a proposal; with feedback the agent retries")
    reject.add_argument("proposal", help="proposal id")
    reject.add_argument("--feedback", default="", help="why; the agent gets it and tries again")
    reject.add_argument("--wait", action="store_true", help="run the retry now and print its outcome")
    root_option(reject)
    reject.set_defaults(handler=cmd_reject)

    status = subparsers.add_parser("status", help="what a node's agent is doing")
    status.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    status.add_argument("--json", action="store_true")
    root_option(status)
    status.set_defaults(handler=cmd_status)

    stop = subparsers.add_parser("stop", help="cancel every running or queued turn of a node's agent")
    stop.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    root_option(stop)
    stop.set_defaults(handler=cmd_stop)

    ghost = subparsers.add_parser("ghost", help="ask for a new node at an empty line of a file")
    ghost.add_argument("file")
    ghost.add_argument("line", type=int, help="1-based line number of an empty line")
    ghost.add_argument("instruction", help="what the new node must do")
    ghost.add_argument("--wait", action="store_true", help="run the turn now and print the proposal")
    root_option(ghost)
    ghost.set_defaults(handler=cmd_ghost)

    tools = subparsers.add_parser("tools", help="the tools of a node's agent (what the model can call)")
    tools.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    tools.add_argument("--json", action="store_true", help="the JSON schemas")
    root_option(tools)
    tools.set_defaults(handler=cmd_tools)

    tool = subparsers.add_parser("tool", help="run one tool of a node's agent yourself")
    tool.add_argument("node", help="node id (or an unambiguous name / qualified name)")
    tool.add_argument("name", help="tool name (see 'remora tools NODE')")
    tool.add_argument("arguments", nargs="?", default="{}", help="the arguments as a JSON object")
    root_option(tool)
    tool.set_defaults(handler=cmd_tool)

    events = subparsers.add_parser("events", help="print the event log")
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument("--node", help="only events about this node id")
    events.add_argument("--after", type=int, default=0, metavar="SEQ", help="only events after this seq")
    events.add_argument("--limit", type=int, default=1000, help="at most this many past events")
    events.add_argument(
        "--timeout", type=float, default=None, help="with --follow: stop after this many seconds"
    )
    root_option(events)
    events.set_defaults(handler=cmd_events)

    run = subparsers.add_parser("run", help="run queued agent triggers")
    run.add_argument("--once", action="store_true", help="run what is queued, then exit")
    root_option(run)
    run.set_defaults(handler=cmd_run)

    cancel = subparsers.add_parser("cancel", help="cancel everything under a correlation id")
    cancel.add_argument("correlation", help="correlation id (c_...)")
    root_option(cancel)
    cancel.set_defaults(handler=cmd_cancel)

