"""P13 on the web page (real Chromium, as tests/test_web.py): a finding whose basis is not verified
shows 依据待核实, and the rule's interpretation is shown as text labelled 本工具解释."""

from __future__ import annotations

import pytest

from tests.test_web import CHROMIUM, _draw_square, _pick_industry, browser, page, service  # noqa: F401

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (.ci/run installs)")
ZHONGLIANG_NO_BUILD = (106.419497, 29.676787)


def test_page_marks_unverified_basis_and_shows_interpretation(page):  # noqa: F811
    """重庆市“四山”地区开发建设管制规定 (text not stored) via 000:L105: housing (K7010) in the 中梁山
    禁建区 → the four-mountains finding shows 依据待核实 and 本工具解释：…管制规定…"""
    _draw_square(page, *ZHONGLIANG_NO_BUILD)
    _pick_industry(page, "K7010", "K7010")
    page.select_option("#nature", "new")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    text = page.inner_text("#findings")
    assert "依据待核实" in text and "本工具解释" in text and "管制规定" in text
