"""The browser tests of tests/legal share tests/test_web.py's setup: its ``service`` (the running
service on the demo data), ``browser`` (headless Debian Chromium) and ``page`` fixtures, skipped
as there when chromium is missing, and one way to screen a drawn site on the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_web import CHROMIUM, _draw_square, _pick_industry, browser, page, service  # noqa: F401

HERE = Path(__file__).resolve().parent
NEEDS_CHROMIUM = pytest.mark.skipif(CHROMIUM is None,
                                    reason="needs Debian chromium (.ci/run installs)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder that uses the browser is skipped without chromium."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and HERE in item.path.parents:
            item.add_marker(NEEDS_CHROMIUM)


@pytest.fixture
def screen_on_page(page) -> Callable[[tuple[float, float], str], str]:  # noqa: F811
    """Draw a square site at (lon, lat), pick the industry code, nature 新建, screen, and return
    the text of the findings."""
    def run(lonlat: tuple[float, float], code: str) -> str:
        _draw_square(page, *lonlat)
        _pick_industry(page, code, code)
        page.select_option("#nature", "new")
        page.click("#submit")
        page.wait_for_selector("#result:not([hidden])")
        return page.inner_text("#findings")

    return run
