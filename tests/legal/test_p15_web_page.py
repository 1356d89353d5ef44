"""P15 / P14 on the web page (real Chromium, as tests/test_web.py): the finding of a seed-001 rule
shows its quote in simplified characters, and typing an everyday word (养猪) offers its code."""

from __future__ import annotations

CLEAR_SPB = (106.332299, 29.557251)


def test_page_shows_the_simplified_quote_and_finds_codes_by_everyday_word(page, screen_on_page):
    """P15 web page: a new cement plant (C3011) triggers the seed-001 rule; its quote is shown as
    不再新增独立的水泥粉磨产能 (simplified), not 獨立…產能. P14: typing 养猪 offers A0313."""
    page.fill("#industry", "养猪")
    page.wait_for_selector("#industry-list li[data-code='A0313']")
    text = screen_on_page(CLEAR_SPB, "C3011")
    assert "不再新增独立的水泥粉磨产能" in text and "獨立" not in text
