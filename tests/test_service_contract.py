"""doc/api.md and the served ``/v1/openapi.json`` agree; schemathesis fuzzes every route (no 5xx)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from remora_core.service.app import create_app
from tests.fake_llm import indexed_project
from tests.service_helpers import Server, service_config, start_server

DOC = Path(__file__).resolve().parent.parent / "doc" / "api.md"
ROUTE_RE = re.compile(r"^### `(GET|POST) (/v1/[^`]*)`", re.MULTILINE)
STREAMS = r"^/v1/(events|stream)$"  # endless by design: tested by test_service_http / the browser test


def _openapi(tmp_path: Path) -> dict[str, Any]:
    return create_app(tmp_path, token="t").openapi()


def test_doc_and_openapi_name_the_same_routes(tmp_path: Path) -> None:
    schema = _openapi(tmp_path)
    served = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    documented = set(ROUTE_RE.findall(DOC.read_text(encoding="utf-8")))
    assert documented == served, f"only in doc: {documented - served}; only served: {served - documented}"


def test_doc_names_every_field_of_every_model(tmp_path: Path) -> None:
    doc = DOC.read_text(encoding="utf-8")
    missing = [
        f"{name}.{field}"
        for name, component in _openapi(tmp_path)["components"]["schemas"].items()
        if name not in ("HTTPValidationError", "ValidationError")
        for field in component.get("properties", {})
        if f'"{field}"' not in doc and f"`{field}`" not in doc
    ]
    assert not missing, f"fields in /v1/openapi.json that doc/api.md does not describe: {missing}"


def test_every_route_documents_the_error_envelope(tmp_path: Path) -> None:
    for path, ops in _openapi(tmp_path)["paths"].items():
        for method, op in ops.items():
            for status in ("401", "404", "422", "429"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorEnvelope"), (method, path, status)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("fuzz") / "proj"
    store = indexed_project(root, {"m.py": "def f(x):\n    return x\n\n\nclass C:\n    def g(self):\n        return 1\n"})
    store.close()
    (root / ".remora" / "config.toml").write_text(service_config(rate_limit=10_000.0, rate_burst=10_000),
                                                  encoding="utf-8")
    server = start_server(root, "--no-agents")
    yield server
    server.stop()


def test_fuzz_every_route_from_the_openapi_document_without_5xx(fuzz_server: Server) -> None:
    """Property-based: schemathesis generates requests (valid and not) for every operation of the
    served schema (positive and negative cases); none may answer 5xx and every error uses the envelope. Bounded: 16 examples
    per operation, derandomized (the same cases every run)."""
    api = schemathesis.openapi.from_url(f"{fuzz_server.url}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_server.token}"}
    operations = [result.ok() for result in api.get_all_operations()]
    fuzzed = []
    statuses: list[int] = []
    for operation in operations:
        if re.match(STREAMS, operation.path):
            continue
        fuzzed.append(f"{operation.method.upper()} {operation.path}")

        strategy = operation.as_strategy(schemathesis.GenerationMode.POSITIVE) | operation.as_strategy(
            schemathesis.GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(max_examples=16, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def check(case: Any) -> None:
            response = case.call(base_url=fuzz_server.url, headers=headers, timeout=30)
            statuses.append(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
            if response.status_code >= 400:
                assert set(response.json()["error"]) >= {"code", "message", "status", "request_id"}

        check()
    assert len(fuzzed) == len(operations) - 2
    assert len(statuses) >= 5 * len(fuzzed) and {200, 404, 422} <= set(statuses), sorted(set(statuses))
