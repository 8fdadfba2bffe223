"""The parse workers' side of the worker -> parent hop: one ``marshal`` record per file."""

from __future__ import annotations

import shutil
from pathlib import Path

from remora_core.index import parse_pool
from remora_core.index.parse_pool import pack_result, parse_one, unpack_result

FIXTURES = Path(__file__).parent / "fixtures"


def _tree(root: Path) -> list[str]:
    shutil.copytree(FIXTURES / "lang_go", root / "gomod")
    shutil.copytree(FIXTURES / "lang_js", root / "web")
    (root / "anchored.py").write_text(
        "# remora-file: rm_file0001\n"
        "class A(Base, mod.Other):  # rm_aaaa0001\n"
        "    def m(self, x, *args, y=1, **kw):  # rm_aaaa0002\n"
        "        return super().m(x) + helper(y)\n"
    )
    (root / "broken.py").write_text("def ok():\n    pass\n\ndef bad(:\n    call()\n")
    (root / "latin.py").write_bytes(b"def caf\xe9():\n    return 1\n")  # no coding line: reported
    (root / "empty.py").write_text("")
    big = "".join(f"def f{i}(a, b=2):\n    return g{i}(a) + b\n\n\n" for i in range(3000))
    (root / "big.py").write_text(big)
    assert len(big) >= parse_pool.RELEASE_AFTER_BYTES
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_a_packed_result_is_one_bytes_record_that_unpacks_equal(tmp_path: Path) -> None:
    paths = _tree(tmp_path)
    for check in (False, True):
        for path in [*paths, "missing.py"]:
            result = parse_one(str(tmp_path), path, None, check)
            packed = pack_result(result)
            assert isinstance(packed, bytes)
            back = unpack_result(packed)
            assert back == result
            if result.parsed is not None:
                assert [type(call) for call in back.parsed.calls] == [type(call) for call in result.parsed.calls]  # type: ignore[union-attr]
                assert [type(item) for item in back.parsed.imports] == [type(item) for item in result.parsed.imports]  # type: ignore[union-attr]


def test_a_worker_batch_gives_what_parse_one_gives(tmp_path: Path) -> None:
    """``_parse_batch`` (memory given back after big files) changes no result."""
    paths = _tree(tmp_path)
    batch = parse_pool._parse_batch(str(tmp_path), paths, True)
    assert [unpack_result(packed) for packed in batch] == [parse_one(str(tmp_path), path, None, True) for path in paths]
