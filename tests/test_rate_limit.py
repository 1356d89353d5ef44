"""The anonymous screening rate limit cannot be dodged: only a valid token skips it, and
X-Forwarded-For is believed only when configured (through a real uvicorn server). Also the
HTTP details of error responses (405 carries ``Allow``)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from spatial.tokens import TokenStore
from tests.server import running_service

POINT = {"site": {"type": "Point", "coordinates": [106.332299, 29.557251]},
         "project": {"industry": "K7010", "nature": "new"}}


@pytest.fixture(scope="module")
def limited_app(demo_home):
    """A service allowing two anonymous screenings per client and minute."""
    return create_app(Settings(home=demo_home, anonymous_rate_per_minute=2))


@pytest.fixture
def limited(limited_app, request):
    """A client of ``limited_app`` from an address of its own (a bucket of its own)."""
    address = f"198.51.100.{len(_ADDRESSES) + 1}"
    _ADDRESSES.append(request.node.name)
    with TestClient(limited_app, client=(address, 40000)) as c:
        yield c


_ADDRESSES: list[str] = []


@pytest.mark.parametrize("authorization", ["", " ", "Bearer", "Bearer ", "Basic YTpi",
                                           "Bearer garbage", "Bearer rl_forged-token",
                                           "bearer rl_" + "x" * 43])
def test_an_empty_or_invalid_authorization_header_does_not_skip_the_limit(limited,
                                                                           authorization):
    codes = [limited.post("/api/v1/screenings", json=POINT,
                          headers={"Authorization": authorization}).status_code
             for _ in range(4)]
    # the first two pass the limiter (and are then screened or refused as 401 by the route);
    # the rest are refused by the limiter before any work is done
    assert codes[2:] == [429, 429], codes
    assert set(codes[:2]) <= {201, 401}


def test_a_valid_token_skips_the_limit_and_is_looked_up_rarely(limited, runtime, monkeypatch):
    token, _ = TokenStore(runtime.store).create("限流测试", "reviewer", actor="tests")
    lookups: list[str] = []
    check = TokenStore.check

    def counting(self: TokenStore, tok: str):  # type: ignore[no-untyped-def]
        lookups.append(tok)
        return check(self, tok)

    monkeypatch.setattr(TokenStore, "check", counting)
    codes = [limited.post("/api/v1/screenings", json=POINT,
                          headers={"Authorization": f"Bearer {token}"}).status_code
             for _ in range(6)]
    assert codes == [201] * 6
    # the route authenticates every request (6); the limiter looked the token up once
    assert len(lookups) == 6 + 1
    # anonymous callers from the same address are still limited
    anon = [limited.post("/api/v1/screenings", json=POINT).status_code for _ in range(3)]
    assert anon == [201, 201, 429]


def test_a_revoked_token_is_refused_by_the_route(limited, runtime):
    store = TokenStore(runtime.store)
    token, info = store.create("撤销测试", "reviewer", actor="tests")
    auth = {"Authorization": f"Bearer {token}"}
    assert limited.post("/api/v1/screenings", json=POINT, headers=auth).status_code == 201
    store.revoke(info.id, actor="tests")
    r = limited.post("/api/v1/screenings", json=POINT, headers=auth)
    assert r.status_code == 401 and r.json()["code"] == "auth.invalid"


def _codes_with_forged_addresses(url: str, n: int) -> list[int]:
    with httpx.Client(timeout=30) as client:  # one keep-alive connection: one worker
        return [client.post(f"{url}/api/v1/screenings", json=POINT,
                            headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                for i in range(n)]


def test_forwarded_for_is_ignored_by_a_real_server_unless_configured(demo_home):
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; a forged address per request
    gave every request a fresh bucket."""
    with running_service(demo_home, {"REDLINE_ANONYMOUS_RATE_PER_MINUTE": "2"}) as url:
        assert _codes_with_forged_addresses(url, 4) == [201, 201, 429, 429]


@pytest.mark.slow
def test_forwarded_for_is_ignored_by_each_worker_process(demo_home):
    with running_service(demo_home, {"REDLINE_ANONYMOUS_RATE_PER_MINUTE": "2"},
                         workers=2) as url:
        assert _codes_with_forged_addresses(url, 4) == [201, 201, 429, 429]


def test_forwarded_for_keys_clients_when_configured(demo_home):
    env = {"REDLINE_ANONYMOUS_RATE_PER_MINUTE": "2", "REDLINE_TRUST_FORWARDED_FOR": "true"}
    with running_service(demo_home, env) as url:
        assert _codes_with_forged_addresses(url, 4) == [201] * 4


def test_405_carries_allow(client):
    r = client.delete("/api/v1/screenings")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {m.strip() for m in r.headers["Allow"].split(",")} >= {"GET", "POST"}
    r = client.post("/api/v1/rules")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    r = client.post("/static/app.js")  # StaticFiles' own 405 keeps its Allow
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
