"""watchfiles' synchronous ``watch`` in a thread of its own, handing each batch to the hub's loop.

Why not ``awatch``: ``awatch`` starts every Rust ``watch`` call through anyio's worker
threads and back, so each batch (and each idle ``rust_timeout``) crosses threads twice
more. One long-lived thread per hub does less work per wake-up, which buys the smaller
``step`` (the latency from a save to its batch is ``step`` to ``2 * step``) for the same
idle CPU.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, watch

from remora_core.hub.watch_filter import HubWatchFilter

Batch = set[tuple[Change, str]]


async def watch_in_thread(
    root: Path,
    watch_filter: HubWatchFilter,
    on_changes: Callable[[Batch], None],
    stop: threading.Event,
    *,
    step_ms: int,
    debounce_ms: int,
    rust_timeout_ms: int,
) -> None:
    """Watch ``root`` until ``stop`` is set; ``on_changes`` runs on the calling loop for every
    batch that passed ``watch_filter``. Raises what the watch raised (a vanished root...)."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def deliver(callback: Callable[..., object], *args: object) -> None:
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            pass  # the loop is closed: the hub is gone

    def finish(error: BaseException | None) -> None:
        if finished.done():
            return
        if error is None:
            finished.set_result(None)
        else:
            finished.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            for changes in watch(
                root,
                watch_filter=watch_filter,
                step=step_ms,
                debounce=debounce_ms,
                rust_timeout=rust_timeout_ms,
                stop_event=stop,
                recursive=True,
            ):
                deliver(on_changes, changes)
        except BaseException as caught:  # noqa: BLE001 - handed to the loop
            error = caught
        deliver(finish, error)

    thread = threading.Thread(target=run, name="remora-hub-watch", daemon=True)
    thread.start()
    try:
        await finished
    finally:
        stop.set()  # cancelled or failed: the thread ends within one step
