"""``remora index`` stays lean: its imports, and parse workers forked before the heavy part."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from remora_core.index import parse_pool
from remora_core.index.parse_pool import parse_files, parse_one, prestart_workers, release_workers

HEAVY = ("pydantic", "rustworkx", "openai", "asyncio", "remora_core.engine.facade", "remora_core.agents.runner")


def _loaded(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    modules = set(json.loads(out))
    return [name for name in HEAVY if name in modules]


def test_cli_import_loads_no_agent_runtime() -> None:
    assert _loaded("import remora_core.cli; remora_core.cli.build_parser()") == []


def test_parse_pool_import_loads_no_config_models() -> None:
    assert _loaded("import remora_core.index.parse_pool") == []


def _tree(root: Path, files: int = 40) -> tuple[list[str], list[int]]:
    body = "".join(
        f"def f{i}(x):\n    return g{i}(x) + len(x)\n\n\nclass C{i}:\n    def m(self):\n        self.m()\n\n\n"
        for i in range(500)
    )
    paths = []
    for number in range(files):
        path = f"pkg/m{number}.py"
        (root / "pkg").mkdir(exist_ok=True)
        (root / path).write_text(body)
        paths.append(path)
    return paths, [(root / path).stat().st_size for path in paths]


def test_prestarted_workers_parse_like_one_process(tmp_path: Path) -> None:
    paths, sizes = _tree(tmp_path)
    assert sum(sizes) >= parse_pool.PARALLEL_MIN_BYTES
    prestart_workers(2)
    try:
        assert parse_pool._prestarted is not None
        results = {result.path: result for result in parse_files(str(tmp_path), paths, sizes, 2)}
        assert parse_pool._prestarted is None  # taken by parse_files
    finally:
        release_workers()
    for path in paths:
        alone = parse_one(str(tmp_path), path)
        assert results[path].parsed == alone.parsed
        assert results[path].refs_body == alone.refs_body


def test_unused_prestarted_workers_are_released(tmp_path: Path) -> None:
    workers = 3
    paths, sizes = _tree(tmp_path, files=2)
    prestart_workers(workers)
    assert parse_pool._prestarted is not None
    pool = parse_pool._prestarted[0]
    processes = list(pool._processes.values())
    assert len(processes) == workers
    # a small tree is parsed in this process: the prestarted workers stay unused
    assert len(list(parse_files(str(tmp_path), paths, sizes, workers))) == 2
    release_workers()
    assert parse_pool._prestarted is None
    assert all(not process.is_alive() for process in processes)


def test_cold_cli_index_with_prestarted_workers(tmp_path: Path) -> None:
    _tree(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "remora_core.cli", "index", "--no-inject", "--json", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    report = json.loads(out)
    assert report["files"] == 40
    assert report["nodes"]["function"] == 40 * 500
