"""The Datastar dashboard in real headless Chromium (Debian's ``chromium``, driven by Playwright):
the datastar-py 0.4 patches are understood by the npm client 1.0.0-beta.11, a live event shows
within 1 s of its write by another process, and the approve button applies a proposal to the file."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from remora_core.events.models import HubStartedEvent
from remora_core.events.store import EventLog
from remora_core.store.store import Store
from tests.fake_llm import FakeLLM, indexed_project, node_id_of
from tests.service_helpers import Server, datastar_js, service_config, start_server

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"]
REQUIRED = os.environ.get("REMORA_REQUIRE_BROWSER") == "1"  # .ci/run: fail instead of skipping


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return "Debian's chromium is not installed (.ci/run installs it)"
    if datastar_js() is None:
        return "the npm Datastar client is not fetched (.ci/run fetches it into .ci/npm/)"
    return None


@pytest.fixture
def browser_page() -> Iterator[object]:
    missing = _missing()
    if missing:
        if REQUIRED:
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.fixture
def dashboard(tmp_path: Path, fake_llm_server: FakeLLM) -> Iterator[tuple[Server, Store]]:
    root = tmp_path / "proj"
    store = indexed_project(root, {"calc.py": "def add(a, b):\n    return a + b\n"})
    (root / ".remora" / "config.toml").write_text(service_config(fake_llm_server.base_url), encoding="utf-8")
    server = start_server(root)
    yield server, store
    server.stop()
    store.close()


@pytest.fixture
def fake_llm_server() -> Iterator[FakeLLM]:
    server = FakeLLM()
    yield server
    server.close()


def test_dashboard_live_event_and_approve_click(
    browser_page: object, dashboard: tuple[Server, Store], fake_llm_server: FakeLLM
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    server, store = dashboard
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/#token={server.token}")
    expect(page.locator("#status")).to_contain_text("hub:", timeout=30_000)  # the stream is patching
    expect(page.locator("#tree")).to_contain_text("calc.py")

    # A live event written by another process (this test, not the server) shows within 1 s.
    writer = Store.open(server.root, create=False)
    try:
        appended = EventLog(writer.connection).append(HubStartedEvent(pid=4242, root="x", mode="once"))
        written = time.monotonic()
        page.wait_for_selector(f"#ev-{appended.seq}", timeout=10_000)
        shown = time.monotonic() - written
    finally:
        writer.close()
    print(f"live event shown {shown * 1000:.0f} ms after its write")
    assert shown <= 1.0

    # Pick the node, chat through the box; the fake model proposes; approve with a click.
    add = node_id_of(store, "add")
    fake_llm_server.add_tool_calls(("rewrite_self", {"new_source": "def add(a: int, b: int) -> int:\n    return a + b\n"}))
    fake_llm_server.add_text("done")
    page.locator("#tree summary", has_text="calc.py").click()
    page.locator(f"#node-{add}").click()
    expect(page.locator("#detail pre")).to_contain_text("def add(a, b):")
    expect(page.locator("#detail #node-state")).to_contain_text("Hub state: missing")  # indexed, never updated
    page.locator("#chat-input").fill("add type hints")
    page.locator("#chat-send").click()
    expect(page.locator("#chat-status")).to_contain_text("Sent", timeout=10_000)
    approve = page.locator("#proposals button", has_text="Approve")
    expect(approve).to_be_visible(timeout=30_000)
    expect(page.locator("#proposals")).to_contain_text("+def add(a: int, b: int) -> int:")
    approve.click()
    expect(page.locator("#flash")).to_contain_text("applied", timeout=10_000)
    assert "def add(a: int, b: int) -> int:" in (server.root / "calc.py").read_text(encoding="utf-8")
    expect(page.locator("#proposals")).to_contain_text("None.")
    expect(page.locator("#log")).to_contain_text("RewriteApplied", timeout=10_000)
    assert not errors, errors
