"""Schemathesis against the service's own OpenAPI schema (bounded run in CI): no 5xx, and
every response conforms to the documented schema. A longer run is documented in
docs/reliability.md (REDLINE_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import Settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("REDLINE_FUZZ_EXAMPLES", "15"))


def test_api_never_fails_and_matches_its_schema(tmp_path):
    app = create_app(Settings(home=tmp_path / "home", anonymous_rate_per_minute=0))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: dict[str, str] = {}
    operations = 0
    calls = [0]
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            # "schema-valid data must be accepted" does not hold for a site file that is
            # schema-valid bytes but not a geometry; every other property must hold.
            calls[0] += 1
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as exc:
            failures[op.label] = str(exc)[:2000]
    assert operations >= 20
    print(f"schemathesis: {operations} operations, {calls[0]} requests, "
          f"{len(failures)} failing operations")
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
