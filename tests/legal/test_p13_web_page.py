"""P13 on the web page (real Chromium, as tests/test_web.py): a finding whose basis is not verified
shows 依据待核实, and the rule's interpretation is shown as text labelled 本工具解释."""

from __future__ import annotations

ZHONGLIANG_NO_BUILD = (106.419497, 29.676787)


def test_page_marks_unverified_basis_and_shows_interpretation(screen_on_page):
    """重庆市“四山”地区开发建设管制规定 (text not stored) via 000:L105: housing (K7010) in the 中梁山
    禁建区 → the four-mountains finding shows 依据待核实 and 本工具解释：…管制规定…"""
    text = screen_on_page(ZHONGLIANG_NO_BUILD, "K7010")
    assert "依据待核实" in text and "本工具解释" in text and "管制规定" in text
