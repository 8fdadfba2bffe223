"""The symbol table's compact storage (``index/symbols.py``): nodes kept as per-file columns,
calls packed, read back exactly as they were given (issue #15, the table's memory)."""

from __future__ import annotations

from pathlib import Path

from remora_core.index.symbols import SMALL_FILE_NODES, CallPairs, FileSymbols, SymbolNode, SymbolTable


def _file(
    path: str,
    file_id: str,
    defs: list[tuple[str, str, str, str | None]],
    calls: list[tuple[str, str]] | None = None,
) -> tuple[FileSymbols, list[SymbolNode]]:
    """``defs``: (id, type, name, parent id or None for the file)."""
    nodes = [SymbolNode(file_id, "file", path, path, None)]
    for node_id, node_type, name, parent in defs:
        params = ("self",) if node_type == "method" else ()
        bases = ("Base",) if node_type == "class" else ()
        nodes.append(SymbolNode(node_id, node_type, name, path, parent or file_id, bases, params))
    return FileSymbols(path, file_id, [], list(calls or [])), nodes


def test_call_pairs_read_back_in_first_seen_order_each_once() -> None:
    calls = [("a", "f"), ("b", "x.y"), ("a", "f"), ("a", "g"), ("b", "f")]
    pairs = CallPairs(calls)
    assert list(pairs) == [("a", "f"), ("b", "x.y"), ("a", "g"), ("b", "f")]
    assert len(pairs) == 4 and ("a", "g") in pairs and ("b", "g") not in pairs
    assert pairs == CallPairs(list(pairs))
    odd = CallPairs([("a", "f\ng"), ("a", ""), ("b", "h")])  # a newline in a callee: kept as is
    assert list(odd) == [("a", "f\ng"), ("a", ""), ("b", "h")]
    assert list(CallPairs([])) == [] and list(CallPairs([("a", "")])) == [("a", "")]


def test_nodes_read_back_as_given_in_small_and_big_files() -> None:
    table = SymbolTable()
    for count in (3, SMALL_FILE_NODES + 5):  # a scan of the ids / an index of them
        path = f"m{count}.py"
        defs: list[tuple[str, str, str, str | None]] = [(f"{path}:C", "class", "C", None)]
        defs += [(f"{path}:m{i}", "method", f"m{i}", f"{path}:C") for i in range(count)]
        symbols, nodes = _file(path, f"{path}:file", defs)
        table.add_file(symbols, nodes)
        for node in nodes:
            assert table.nodes[node.id] == node and table.nodes.get(node.id) == node
        assert table.members[f"{path}:C"] == {f"m{i}": f"{path}:m{i}" for i in range(count)}
    assert len(table.nodes) == sum(1 + 1 + count for count in (3, SMALL_FILE_NODES + 5))
    assert table.nodes.get("nope") is None and "nope" not in table.nodes


def test_an_id_twice_in_a_file_is_its_last_definition() -> None:
    table = SymbolTable()
    symbols, nodes = _file("a.py", "fa", [("x", "function", "one", None), ("x", "function", "two", None)])
    table.add_file(symbols, nodes)
    assert table.nodes["x"].name == "two"
    assert table.members["fa"] == {"two": "x"}


def test_a_node_moved_to_a_file_added_earlier_is_kept_when_its_old_file_goes() -> None:
    table = SymbolTable()
    table.add_file(*_file("a.py", "fa", [("k", "class", "K", None), ("k.m", "method", "m", "k")]))
    table.add_file(*_file("b.py", "fb", [("k", "class", "K", None)]))  # k moved to b.py
    assert table.nodes["k"].file_path == "b.py"
    table.remove_file("a.py")
    assert table.nodes["k"].file_path == "b.py" and "k.m" not in table.nodes
    table.remove_file("b.py")
    assert len(table.nodes) == 0 and not table.members


def test_resolution_reads_the_columns() -> None:
    table = SymbolTable()
    defs: list[tuple[str, str, str, str | None]] = [
        ("base", "class", "Base", None),
        ("base.run", "method", "run", "base"),
        ("k", "class", "K", None),
        ("k.go", "method", "go", "k"),
        ("helper", "function", "helper", None),
        ("outer", "function", "outer", None),
        ("outer.inner", "function", "inner", "outer"),
    ]
    calls = [
        ("k.go", "self.run"),
        ("k.go", "helper"),
        ("outer", "inner"),
        ("outer.inner", "K.go"),
        ("k.go", "super().go"),
    ]
    table.add_file(*_file("a.py", "fa", defs, calls))
    assert table.resolve_file("a.py") == (
        sorted([("k.go", "base.run"), ("k.go", "helper"), ("outer", "outer.inner"), ("outer.inner", "k.go")]),
        [],
    )
    assert table.through_bases({"Base"}) == {"Base", "K"}  # K's base is spelled Base (and Base's too)


def test_a_table_loaded_from_the_database_resolves_as_the_cold_build_and_shares_values(tmp_path: Path) -> None:
    """The hub's load path (``Indexer.load_symbols``, ``refs.symbols_from_refs``) gives the
    same edges as the table the cold build filled, with parameter lists, bases, names and
    imports shared as the cold build shares them."""
    from remora_core.index.indexer import Indexer
    from remora_core.store.store import Store

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .base import Base\n")
    (tmp_path / "pkg" / "base.py").write_text(
        "class Base:\n    def run(self, x):\n        return self.step(x)\n    def step(self, x):\n        return x\n"
    )
    (tmp_path / "app.py").write_text(
        "from pkg import Base\nimport pkg.base\n\n"
        "class App(Base):\n    def run(self, x):\n        return super().run(x)\n\n"
        "def main(x):\n    return App().run(x) + pkg.base.Base().step(x)\n"
    )
    store = Store.open(tmp_path, create=True)
    try:
        cold = Indexer(tmp_path, store)
        cold.index(inject=False)
        assert cold.symbols is not None
        loaded = Indexer(tmp_path, store)
        loaded.load_symbols()
        assert loaded.symbols is not None
        paths = sorted(cold.symbols.files)
        assert paths == sorted(loaded.symbols.files)
        for path in paths:
            assert loaded.symbols.resolve_file(path) == cold.symbols.resolve_file(path)
        edges = [edge for path in paths for edge in loaded.symbols.resolve_file(path)[0]]
        assert len(edges) >= 4  # super().run, self.step, App(), App().run is unknown, Base().step
        table = loaded.symbols.table("app.py")
        assert isinstance(table, SymbolTable)
        methods = [node for node in table.nodes.values() if node.name in ("run", "step")]
        params = {id(node.params) for node in methods if tuple(node.params) == ("self", "x")}
        assert len(methods) == 3 and len(params) == 1  # one shared tuple for every (self, x)
        runs = [node.name for node in methods if node.name == "run"]
        assert runs[0] is runs[1]  # one string for a name that repeats
        modules = [ref.module for symbols in loaded.symbols.files.values() for ref in symbols.imports]
        assert "pkg" in modules and "pkg.base" in modules
    finally:
        store.close()
