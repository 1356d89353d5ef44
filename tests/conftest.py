"""Shared fixtures: a throwaway data directory seeded from the shipped demo data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.state import Runtime, open_runtime


@pytest.fixture(scope="session")
def pristine_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory seeded once from the demo data and never opened again: the source of
    ``fresh_home`` copies (seeding takes ~20 s; a copy well under a second)."""
    home = tmp_path_factory.mktemp("pristine") / "home"
    open_runtime(Settings(home=home))
    return home


def copy_home(pristine: Path, dest: Path) -> Path:
    """A private copy of the seeded data directory at ``dest`` (as if just seeded there)."""
    shutil.copytree(pristine, dest)
    return dest


@pytest.fixture
def fresh_home(pristine_home: Path, tmp_path: Path) -> Path:
    """``tmp_path / "home"``: a just-seeded data directory of the test's own."""
    return copy_home(pristine_home, tmp_path / "home")


@pytest.fixture(scope="session")
def demo_home(pristine_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory the session's shared runtime and client use."""
    return copy_home(pristine_home, tmp_path_factory.mktemp("redline-home") / "home")


@pytest.fixture(scope="session")
def runtime(demo_home) -> Runtime:
    return open_runtime(Settings(home=demo_home))


@pytest.fixture(scope="session")
def client(demo_home) -> Iterator[TestClient]:
    # the anonymous rate limit has its own test; the suite itself posts hundreds of screenings
    app = create_app(Settings(home=demo_home, anonymous_rate_per_minute=0))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def admin_headers(runtime) -> dict[str, str]:
    from spatial.tokens import TokenStore

    token, _ = TokenStore(runtime.store).create("测试管理员", "gis_admin", actor="tests")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def reviewer_headers(runtime) -> dict[str, str]:
    from spatial.tokens import TokenStore

    token, _ = TokenStore(runtime.store).create("测试审批员", "reviewer", actor="tests")
    return {"Authorization": f"Bearer {token}"}
