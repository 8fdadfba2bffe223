"""A fixture project for the node-state hub tests, and helpers to drive its updates inline."""

from __future__ import annotations

from pathlib import Path

from remora_core.config import HubConfig, IndexConfig
from remora_core.hub.state.model import NodeState
from remora_core.hub.state.service import OnceResult, update_once
from remora_core.hub.state.store import NodeStateStore
from remora_core.hub.state.updater import NodeUpdate
from remora_core.store.store import Store
from tests.conftest import write_files

FILES: dict[str, str | bytes] = {
    "shop/__init__.py": "",
    "shop/pricing.py": '''
        """Prices and discounts."""

        __all__ = ["total", "discount"]


        def discount(amount, rate):
            """Apply a discount rate."""
            if rate < 0 or rate > 1:
                raise ValueError(rate)
            return amount * (1 - rate)


        def total(items, rate=0.0):
            subtotal = 0
            for price in items:
                subtotal += price
            return discount(subtotal, rate)


        class Cart:
            def checkout(self, items):
                return total(items, 0.1)
        ''',
    "shop/report.py": '''
        from shop.pricing import total


        def summary(items):
            return f"total: {total(items)}"
        ''',
    "tests/__init__.py": "",
    "tests/test_pricing.py": '''
        from shop.pricing import discount, total


        def test_discount():
            assert discount(100, 0.5) == 50


        def test_total_sums():
            assert total([1, 2]) == 3
        ''',
}

FAST = HubConfig(test_timeout=60.0)  # every default, generous test timeout for loaded machines


def make_project(root: Path, extra: dict[str, str | bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".remora").mkdir(exist_ok=True)
    write_files(root, {**FILES, **(extra or {})})
    return root


def update(root: Path, config: HubConfig = FAST, paths: list[str] | None = None) -> OnceResult:
    """Index ``paths`` (default: the tree) and run the node-state updates inline."""
    return update_once(root, config, IndexConfig(), paths)


def by_name(result: OnceResult, qualname: str) -> NodeUpdate:
    found = [item for item in result.updates if item.state is not None and item.state.qualname == qualname]
    assert found, f"no update of {qualname!r} in {[u.state.qualname for u in result.updates if u.state]}"
    return found[0]


def state_of(root: Path, qualname: str) -> NodeState:
    store = Store.open(root)
    try:
        rows = [row for row in store.find_nodes(qualname) if row.qualname == qualname]
        assert rows, qualname
        state = NodeStateStore(store.connection).get(rows[0].id)
        assert state is not None, qualname
        return state
    finally:
        store.close()


def node_id(root: Path, qualname: str) -> str:
    store = Store.open(root)
    try:
        return next(row.id for row in store.find_nodes(qualname) if row.qualname == qualname)
    finally:
        store.close()


def edit(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    text = file.read_text(encoding="utf-8")
    assert old in text, (path, old)
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
