"""Cold-index throughput per registry language, against the bare tree-sitter parse of the same files.

    python bench/lang_bench.py [--runs 3] [--max-mb 6] [--languages go,...]

For each language of ``CORPORA`` (one row each; add yours), its corpus is copied to a temporary
tree and timed, median of ``--runs``:
  * ``tree-sitter``: ``Parser.parse`` of every file's bytes (already in memory), nothing else;
  * ``extract``: the language's ``parse`` (definitions, anchors, imports, calls) of the same bytes;
  * ``cold index``: ``remora index --no-inject --json`` on the tree with no database (discovery,
    parsing, ids, resolution, the SQLite write; one process: the default worker rule).
Figures are MB/s of source and the ratio cold index time / tree-sitter time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from remora_core.languages import language_for_path, languages


def _go_root() -> Path | None:
    go = shutil.which("go")
    if go is None:
        return None
    done = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=False)
    root = Path(done.stdout.strip())
    return root if (root / "src").is_dir() else None


def go_corpus(max_bytes: int) -> list[Path]:
    """Go's own standard library sources (Debian's golang-go), test files and testdata excluded."""
    root = _go_root()
    if root is None:
        return []
    found: list[Path] = []
    total = 0
    for package in ("fmt", "strings", "bytes", "bufio", "encoding/json", "go/ast", "go/parser", "net/http", "net"):
        for path in sorted((root / "src" / package).glob("*.go")):
            if path.name.endswith("_test.go"):
                continue
            total += path.stat().st_size
            found.append(path)
            if total >= max_bytes:
                return found
    return found


ZOD = "zod@4.6.7"  # its npm tarball ships its TypeScript sources (src/) and its built .js/.cjs


def _zod_root() -> Path | None:
    """zod's npm tarball, unpacked once into ~/.cache/remora/bench (npm registry needed once)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "remora" / "bench" / ZOD
    package = cache / "package"
    if not package.is_dir() and shutil.which("npm"):
        cache.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(["npm", "pack", "--silent", ZOD], cwd=cache, capture_output=True, text=True, check=False)
        if packed.returncode == 0:
            subprocess.run(["tar", "xzf", packed.stdout.strip().splitlines()[-1]], cwd=cache, check=False)
    return package if package.is_dir() else None


def _zod_files(suffixes: tuple[str, ...], under: str, max_bytes: int) -> list[Path]:
    root = _zod_root()
    if root is None:
        return []
    found: list[Path] = []
    total = 0
    for path in sorted((root / under).rglob("*")):
        if path.suffix in suffixes and not path.name.endswith((".d.ts", ".d.cts", ".d.mts")):
            total += path.stat().st_size
            found.append(path)
            if total >= max_bytes:
                break
    return found


def typescript_corpus(max_bytes: int) -> list[Path]:
    """zod's TypeScript sources (npm tarball, src/)."""
    return _zod_files((".ts",), "src", max_bytes)


def javascript_corpus(max_bytes: int) -> list[Path]:
    """zod's built JavaScript (npm tarball: ESM .js and CommonJS .cjs)."""
    return _zod_files((".js", ".cjs"), ".", max_bytes)


# language name -> corpus (files of that language, at most about max_bytes of them).
CORPORA: dict[str, Callable[[int], list[Path]]] = {
    "go": go_corpus,
    "javascript": javascript_corpus,
    "typescript": typescript_corpus,
}


def _median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def bench_language(name: str, files: list[Path], runs: int) -> dict[str, float | int | str]:
    language = next(language for language in languages() if language.name == name)
    blobs = [path.read_bytes() for path in files]
    size = sum(len(blob) for blob in blobs)
    from tree_sitter import Parser

    parser = Parser(language.grammar())
    parse_times: list[float] = []
    extract_times: list[float] = []
    index_times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        for blob in blobs:
            parser.parse(blob)
        parse_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        for blob in blobs:
            language.parse(blob)
        extract_times.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory(prefix=f"remora-lang-{name}-") as tmp:
            tree = Path(tmp)
            for index, path in enumerate(files):
                target = tree / f"d{index // 50}" / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    target = target.with_name(f"{index}_{path.name}")
                shutil.copyfile(path, target)
                assert language_for_path(str(target)) is language
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "remora_core.cli", "index", str(tree), "--no-inject", "--json"],
                capture_output=True,
                text=True,
                check=False,
            )
            index_times.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(f"bench: remora index failed: {done.stderr.strip()[:500]}")
            report = json.loads(done.stdout)
    megabytes = size / 1e6
    parse_s, extract_s, index_s = _median(parse_times), _median(extract_times), _median(index_times)
    return {
        "language": name,
        "files": len(files),
        "mb": round(megabytes, 2),
        "tree_sitter_mb_s": round(megabytes / parse_s, 2),
        "extract_mb_s": round(megabytes / extract_s, 2),
        "cold_index_mb_s": round(megabytes / index_s, 2),
        "cold_index_s": round(index_s, 2),
        "ratio_cold_to_tree_sitter": round(index_s / parse_s, 1),
        "nodes": sum(report["nodes"].values()),
        "edges": sum(report["edges"].values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-mb", type=float, default=6.0)
    parser.add_argument("--languages", default=",".join(CORPORA))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    available = {language.name for language in languages()}
    rows = []
    for name in args.languages.split(","):
        if name not in CORPORA or name not in available:
            print(f"bench: {name}: no corpus or grammar, skipped", file=sys.stderr)
            continue
        files = CORPORA[name](int(args.max_mb * 1e6))
        if not files:
            print(f"bench: {name}: corpus not found (for go: apt-get install golang-go), skipped", file=sys.stderr)
            continue
        rows.append(bench_language(name, files, args.runs))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"load average: {os.getloadavg()[0]:.1f} (figures under load are pessimistic)")
    header = f"{'language':<12}{'files':>6}{'MB':>7}{'ts MB/s':>9}{'extract MB/s':>14}{'cold MB/s':>11}{'cold s':>8}{'ratio':>7}"
    print(header)
    for row in rows:
        print(
            f"{row['language']:<12}{row['files']:>6}{row['mb']:>7}{row['tree_sitter_mb_s']:>9}"
            f"{row['extract_mb_s']:>14}{row['cold_index_mb_s']:>11}{row['cold_index_s']:>8}"
            f"{row['ratio_cold_to_tree_sitter']:>7}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
