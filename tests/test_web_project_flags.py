"""Flags and declared activities carry verdicts the industry code cannot (a declared independent
cement grinding station is forbidden, a national major project in the red line is restricted,
…). If the page has no control for one, a page user can never declare it and the rules that
depend on it never fire: every literal of spatial.ruleset.Flag and Activity must have a checkbox,
and a ticked box must reach the screening request and change the verdict."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest

from spatial.ruleset import Activity, Flag
from tests.test_web import CHROMIUM, _draw_square, _pick_industry, browser, page, service  # noqa: F401

CHANGSHOU_PARK = (107.015909, 29.873864)  # inside the 长寿 chemical park, far from rivers
INDEX = Path(__file__).resolve().parents[1] / "app" / "static" / "index.html"


class _Boxes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.boxes: dict[str, list[str]] = {"flag": [], "activity": []}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "checkbox" and a.get("name") in self.boxes:
            self.boxes[str(a["name"])].append(str(a.get("value")))


def _checkboxes() -> dict[str, list[str]]:
    parser = _Boxes()
    parser.feed(INDEX.read_text(encoding="utf-8"))
    return parser.boxes


@pytest.mark.parametrize(("name", "literal"), [("flag", Flag), ("activity", Activity)])
def test_every_flag_and_activity_has_exactly_one_checkbox(name, literal):
    boxes = _checkboxes()[name]
    assert sorted(boxes) == sorted(get_args(literal))
    assert len(boxes) == len(set(boxes))


def test_checkbox_labels_are_chinese():
    html = INDEX.read_text(encoding="utf-8")
    box = r'<label><input type="checkbox" name="(?:flag|activity)" value="\w+"> ([^<]+)</label>'
    labels = re.findall(box, html)
    assert len(labels) == len(get_args(Flag)) + len(get_args(Activity))
    assert all(re.search(r"[\u4e00-\u9fff]", t) for t in labels)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (.ci/run installs)")
def test_ticking_independent_grinding_reaches_the_request_and_forbids(page):  # noqa: F811
    """C3011 cement: restricted as a clinker plant, forbidden as an independent grinding station
    (rules cement-grinding-no-new-independent-capacity / cement-independent-grinding-forbid),
    screened inside a compliant park so that no location rule forbids it either way."""
    _draw_square(page, *CHANGSHOU_PARK)
    _pick_industry(page, "C3011", "C3011")
    page.select_option("#nature", "new")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    assert page.inner_text("#badge") != "禁止"  # a clinker plant in a park: restricted, not banned
    page.check("input[name='flag'][value='independent_grinding']")
    page.click("#activity-box summary")  # folded by default: most projects declare none
    page.check("input[name='activity'][value='eco_restoration']")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/screenings")
                             and r.method == "POST") as req:
        page.click("#submit")
    body = req.value.post_data_json
    assert body["project"]["flags"] == ["independent_grinding"]
    assert body["project"]["activity"] == ["eco_restoration"]
    page.wait_for_selector("#badge:text('禁止')")
    assert "粉磨" in page.inner_text("#findings")
