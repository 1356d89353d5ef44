"""Schemathesis against the service's own OpenAPI schema (bounded run in CI): no 5xx, and
every response conforms to the documented schema; the screening and batch operations also as
reviewer and gis_admin, with bodies that really screen. A longer run is documented in
docs/reliability.md (REDLINE_FUZZ_EXAMPLES, REDLINE_FUZZ_SCREENING_EXAMPLES, and
REDLINE_FUZZ_KEEP_GOING=1 to count every failing request instead of stopping at the first);
counts per operation and role, and failing requests in full, go to
test-artifacts/fuzz-screening.json."""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.schemas import INDUSTRY_PATTERN
from app.settings import Settings
from spatial.tokens import TokenStore
from tests.conftest import copy_home

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("REDLINE_FUZZ_EXAMPLES", "15"))
#: per role, for the two operations that screen (the other screening/batch ones get a tenth):
#: about 1 in 10 generated screening bodies screens, so a run without any is a failure
SCREENING_EXAMPLES = int(os.environ.get("REDLINE_FUZZ_SCREENING_EXAMPLES", "100"))
SCREENS = ("POST /api/v1/screenings", "POST /api/v1/screenings/batch")
#: record failing requests and go on instead of stopping at the first (long runs)
KEEP_GOING = os.environ.get("REDLINE_FUZZ_KEEP_GOING") == "1"
TIMEOUT_S = 120.0
ARTIFACTS = Path("test-artifacts")


@pytest.fixture(scope="module")
def app(tmp_path_factory, pristine_home):
    home = copy_home(pristine_home, tmp_path_factory.mktemp("fuzz") / "home")
    return create_app(Settings(home=home, anonymous_rate_per_minute=0))


@pytest.mark.slow
def test_api_never_fails_and_matches_its_schema(app):
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
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
            failures[op.label] = str(exc)[:2000]
    assert operations >= 20
    print(f"schemathesis: {operations} operations, {calls[0]} requests, "
          f"{len(failures)} failing operations")
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_every_schema_reference_resolves(app):
    # the screening and batch request bodies referred to components FastAPI never emitted
    # (the routes parse their bodies themselves), so no generator could build one
    doc = TestClient(app).get("/openapi.json").json()
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert {"ScreeningCreate", "BatchIn", "ProjectIn"} <= refs
    assert refs <= set(doc["components"]["schemas"])
    # and one alternative describes a site that screens: lon/lat geometry in Chongqing
    for name, prop in (("ScreeningCreate", "site"), ("BatchIn", "sites")):
        alternatives = doc["components"]["schemas"][name]["anyOf"]
        assert any("ChongqingGeometry" in json.dumps(alt["properties"][prop])
                   for alt in alternatives), name


def test_the_industry_pattern_admits_every_catalogued_code(app):
    # the documented canonical form must not exclude a code the service knows
    codes = app.state.runtime.rules.catalogue.codes
    assert all(re.fullmatch(INDUSTRY_PATTERN, code) for code in codes)
    divisions = {c for c in codes if len(c) == 3}
    assert {f"{s}{d:02d}" for s in "ABCDEFGHIJKLMNOPQRST" for d in range(1, 100)
            if re.fullmatch(INDUSTRY_PATTERN, f"{s}{d:02d}")} == divisions


def _token(app, role: str) -> dict[str, str]:
    token, _ = TokenStore(app.state.runtime.store).create(f"fuzz {role}", role, actor="tests")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_screening_and_batch_screen_for_every_role(app, monkeypatch):
    """The screening and batch operations, anonymously and with reviewer and gis_admin tokens:
    no 5xx, responses as documented, and generated bodies that really screen."""
    # a job's HTTP contract is fuzzed here; running it (worker processes) is test_batch's
    monkeypatch.setattr(app.state.runtime.jobs(), "_enqueue", lambda job_id: None)
    roles = {"anonymous": {}, "reviewer": _token(app, "reviewer"),
             "gis_admin": _token(app, "gis_admin")}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ops = [r.ok() for r in schema.get_all_operations()]
    ops = [op for op in ops if op.path.startswith("/api/v1/screenings")]
    assert {op.label for op in ops} >= set(SCREENS)
    tallies: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    found: list[str] = []
    failures: dict[str, str] = {}
    started = time.monotonic()
    for role, headers in roles.items():
        for op in ops:
            examples = SCREENING_EXAMPLES if op.label in SCREENS else max(SCREENING_EXAMPLES // 10, 5)
            try:
                _fuzz(op, role, headers, examples, tallies[(op.label, role)], found)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
                failures[f"{op.label} as {role}"] = str(exc)[:3000]
    elapsed = time.monotonic() - started
    _record(tallies, found, elapsed)
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert not found, "\n\n".join(f[:3000] for f in found[:20])
    by_status = {key: Counter({k.split()[0]: n for k, n in t.items() if k[0].isdigit()})
                 for key, t in tallies.items()}
    # generated bodies really screen, for every role that may
    for role in roles:
        assert by_status[(SCREENS[0], role)]["201"] > 0, tallies
    assert sum(tallies[(SCREENS[1], role)]["200 screened"] for role in ("reviewer", "gis_admin")
               ) > 0, tallies
    assert set(by_status[(SCREENS[1], "anonymous")]) == {"401"}, tallies


def _fuzz(op: Any, role: str, headers: dict[str, str], examples: int, tally: Counter[str],
          found: list[str]) -> None:
    """``examples`` generated requests to ``op``, each checked; a fixed sequence per operation
    and role (seeded). With REDLINE_FUZZ_KEEP_GOING=1 a failing request is recorded in
    ``found`` and generation goes on (for counting in a long run) instead of shrinking it."""
    batch = op.label == SCREENS[1]

    @given(case=op.as_strategy())
    @seed(zlib.crc32(f"{op.label} {role}".encode()))
    # not shrunk: a failing request is reported whole, and shrinking one that times out
    # would cost the time limit per attempt
    @settings(max_examples=examples, deadline=None, database=None,
              phases=[Phase.explicit, Phase.reuse, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        started = time.monotonic()
        try:
            # generous: the service's own time limit answers 503 well before
            response = case.call(headers=headers, timeout=TIMEOUT_S)
        except Exception as exc:  # the in-process app raised: what a server answers with 500
            tally["500 raised"] += 1
            failed(case, exc)
            return
        finally:
            ms = round((time.monotonic() - started) * 1000)
            tally["slowest ms"] = max(tally["slowest ms"], ms)
        tally[_outcome(response, batch=batch)] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:
            tally["check failed"] += 1
            failed(case, exc)

    def failed(case: Any, exc: BaseException) -> None:
        # the whole request: test-artifacts/fuzz-screening.json is where a long run's are read
        text = (f"{op.label} as {role}: {type(exc).__name__}: {str(exc)[:1500]}\n"
                f"{case.as_curl_command(headers)}")
        if not KEEP_GOING:
            raise AssertionError(text) from exc
        found.append(text)

    run()


def _outcome(response: Any, *, batch: bool) -> str:
    """The status and problem code; for a batch answered at once whether any site screened."""
    status = str(response.status_code)
    if status == "200" and batch:
        rows = response.json()["rows"]
        return "200 screened" if any(r["verdict"] != "error" for r in rows) else "200 errors only"
    if status.startswith(("4", "5")):
        try:
            return f"{status} {response.json().get('code')}"
        except ValueError:
            return status
    return status


def _record(tallies: dict[tuple[str, str], Counter[str]], found: list[str],
            elapsed: float) -> None:
    """Print requests, 2xx, 4xx, 5xx per operation and role; the detail in test-artifacts/."""
    report = {f"{label} [{role}]": dict(sorted(t.items())) for (label, role), t in
              sorted(tallies.items())}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-screening.json").write_text(json.dumps(
        {"examples": SCREENING_EXAMPLES, "seconds": round(elapsed, 1), "outcomes": report,
         "failing_requests": found}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nschemathesis, screening and batch operations by role ({elapsed:.0f} s):")
    for (label, role), t in sorted(tallies.items()):
        classes: Counter[str] = Counter()
        for k, n in t.items():
            if k[0].isdigit():
                classes[k[0] + "xx"] += n
        total = sum(classes.values())
        extra = f", {t['200 screened']} batches screened" if label == SCREENS[1] else ""
        print(f"  {label} [{role}]: {total} requests, {classes['2xx']} 2xx, {classes['4xx']} 4xx, "
              f"{classes['5xx']} 5xx{extra}; slowest {t['slowest ms'] / 1000:.1f} s")
