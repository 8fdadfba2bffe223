"""Real-world check of JS/TS anchor injection on an npm package's sources (issue #16).

Packs ``zod`` (its tarball ships its TypeScript sources under ``src/`` and its built ``.js`` /
``.cjs``), writes an anchor on every definition of every JS/TS file (and a file anchor), then:

* the tree-sitter tree without comments is identical before and after, for every file;
* every anchor written is found again by a re-parse;
* ``node --check`` still passes on every ``.js`` / ``.mjs`` / ``.cjs`` file;
* ``tsc --noEmit`` (npm ``typescript``) still passes on ``src`` (tests and benchmarks excluded:
  they import packages that are not installed), when ``--tsc`` names it.

It also prints the extraction throughput per dialect (MB/s) and its ratio to tree-sitter's
parse of the same bytes. Figures are measured on the machine as it is (say its load).

    python bench/lang_js_check.py [--package zod@4.6.7] [--tsc .ci/npm/node_modules/.bin/tsc] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remora_core.languages.js_extract import parse_tree
from tests.lang_js_helpers import code_tokens, inject, js_files, js_language, parse_file

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "es2022",
        "module": "esnext",
        "moduleResolution": "bundler",
        "skipLibCheck": True,
        "types": [],
    },
    "include": ["src"],
    "exclude": ["src/**/tests/**", "src/**/*.test.ts", "src/**/benchmarks/**"],
}


def unpack(package: str, workdir: Path) -> Path:
    subprocess.run(["npm", "pack", "--silent", package], cwd=workdir, check=True, capture_output=True)
    tarball = next(workdir.glob("*.tgz"))
    with tarfile.open(tarball) as archive:
        archive.extractall(workdir, filter="data")
    return workdir / "package"


def throughput(root: Path, files: list[str]) -> dict[str, tuple[int, float, float]]:
    """dialect -> (bytes, extraction seconds, tree-sitter parse seconds)."""
    totals: dict[str, list[float]] = {}
    for path in files:
        language = js_language(path)
        assert language is not None
        dialect = language.dialect
        data = (root / path).read_bytes()
        started = time.perf_counter()
        parse_tree(data, dialect)
        parsed_at = time.perf_counter()
        parse_file(path, data)
        done = time.perf_counter()
        row = totals.setdefault(dialect, [0, 0.0, 0.0])
        row[0] += len(data)
        row[1] += done - parsed_at
        row[2] += parsed_at - started
    return {dialect: (int(b), e, p) for dialect, (b, e, p) in totals.items()}


def inject_all(root: Path, files: list[str]) -> dict[str, int]:
    counts = {"files": 0, "anchors": 0, "skipped_syntax": 0, "tokens_changed": 0, "anchors_lost": 0}
    for path in files:
        data = (root / path).read_bytes()
        before = parse_file(path, data)
        if before.syntax_error:  # Remora writes no anchors into a file its grammar cannot parse
            counts["skipped_syntax"] += 1
            continue
        after_bytes = inject(path, data)
        if code_tokens(path, data) != code_tokens(path, after_bytes):
            counts["tokens_changed"] += 1
            print(f"tokens changed: {path}")
        after = parse_file(path, after_bytes)
        expected = sum(1 for d in before.defs if d.inject_line is not None)
        found = sum(1 for d in after.defs if d.anchor is not None)
        counts["anchors_lost"] += expected - found + (after.file_anchor is None)
        counts["anchors"] += found + 1
        counts["files"] += 1
        (root / path).write_bytes(after_bytes)
    return counts


def node_check(root: Path, files: list[str]) -> list[str]:
    failed: list[str] = []
    for path in files:
        if path.endswith((".js", ".mjs", ".cjs")):
            result = subprocess.run(["node", "--check", path], check=False, cwd=root, capture_output=True, text=True)
            if result.returncode != 0:
                failed.append(f"{path}: {result.stderr.strip().splitlines()[-1:]}")
    return failed


def tsc_check(root: Path, tsc: str) -> tuple[int, str]:
    (root / "tsconfig.remora-check.json").write_text(json.dumps(TSCONFIG))
    result = subprocess.run([tsc, "-p", "tsconfig.remora-check.json"], check=False, cwd=root, capture_output=True, text=True)
    return result.returncode, result.stdout[-2000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", default="zod@4.6.7")
    parser.add_argument("--tsc", type=lambda value: str(Path(value).resolve()), default=os.environ.get("REMORA_TSC"))
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="remora-js-check-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        root = unpack(args.package, workdir)
        files = js_files(root)
        print(f"{args.package}: {len(files)} JS/TS files (declaration files excluded); load {os.getloadavg()[0]:.1f}")
        for dialect, (size, extract_s, parse_s) in sorted(throughput(root, files).items()):
            print(
                f"  {dialect:<10} {size / 1e6:6.2f} MB  extract {size / 1e6 / extract_s:5.2f} MB/s  "
                f"parse {size / 1e6 / parse_s:5.2f} MB/s  ratio {extract_s / parse_s:4.1f}x"
            )
        if args.tsc:
            code, output = tsc_check(root, args.tsc)
            print(f"tsc before: exit {code}")
            if code != 0:
                print(output)
                return 2  # the package does not type-check as shipped: nothing to compare
        failed_before = set(node_check(root, files))
        counts = inject_all(root, files)
        print("injected:", counts)
        failed_after = [line for line in node_check(root, files) if line not in failed_before]
        print(f"node --check: {len(failed_before)} failed before, {len(failed_after)} newly failing")
        for line in failed_after:
            print("  ", line)
        ok = not failed_after and counts["tokens_changed"] == 0 and counts["anchors_lost"] == 0
        if args.tsc:
            code, output = tsc_check(root, args.tsc)
            print(f"tsc after: exit {code}")
            if code != 0:
                print(output)
                ok = False
        print("OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
