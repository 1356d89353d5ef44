"""P15 — the reader sees simplified characters; the verbatim quote is kept.

Seed 001 is in traditional characters. Each finding's basis keeps ``quote`` verbatim and adds
``quote_zh_hans`` (OpenCC t2s, converted once when the rules are loaded); the web page, the
report and the CLI table show the simplified rendering.
"""

from __future__ import annotations

from pathlib import Path

from spatial.hanzi import to_simplified
from spatial.ruleset import Basis, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULES = load_ruleset(ROOT / "rules")
RULE_ID = "cement-grinding-no-new-independent-capacity"  # seed 001, traditional characters
TRAD, SIMP = "不再新增獨立的水泥粉磨產能", "不再新增独立的水泥粉磨产能"
SITE = {"type": "Point", "coordinates": [106.332299, 29.557251]}


def test_conversion_is_t2s():
    """P15: OpenCC t2s converts traditional to simplified and leaves simplified text alone."""
    assert to_simplified(TRAD) == SIMP
    assert to_simplified(SIMP) == SIMP and to_simplified("") == ""


def test_basis_keeps_the_verbatim_quote_and_adds_the_simplified_one():
    """P15: the rule's quote is the seed's text (traditional); quote_zh_hans is simplified and is
    computed at load time; a rule file cannot set it."""
    basis = next(r for r in RULES.rules if r.id == RULE_ID).basis
    assert basis.quote == TRAD and basis.quote_zh_hans == SIMP
    assert basis.model_dump()["quote_zh_hans"] == SIMP
    try:
        Basis(document="d", clause="c", quote="禁止", source="law", quote_zh_hans="x")
    except ValueError:
        pass
    else:
        raise AssertionError("quote_zh_hans must not be accepted from a rule file")


def test_simplified_quote_already_simplified_is_unchanged():
    """P15 negative: a quote already in simplified characters is displayed unchanged."""
    jl = next(r for r in RULES.rules if r.id == "jialing-1km-chemical-risk-ban").basis
    assert jl.quote_zh_hans == jl.quote


def _cement_screening(client) -> dict:
    r = client.post("/api/v1/screenings", json={"site": SITE, "radius_m": 50,
                                                "project": {"industry": "C3011", "nature": "new"}})
    assert r.status_code == 201, r.text
    return r.json()


def test_api_finding_has_the_simplified_display_field(client):
    """P15 API: the verdict's finding for the seed-001 rule carries quote (traditional, verbatim)
    and quote_zh_hans (simplified)."""
    doc = _cement_screening(client)
    f = next(f for f in doc["findings"] if f["rule_id"] == RULE_ID)
    assert f["basis"]["quote"] == TRAD and f["basis"]["quote_zh_hans"] == SIMP


def test_report_shows_the_simplified_quote(client):
    """P15 report: the printable report shows the simplified quote, not the traditional one."""
    doc = _cement_screening(client)
    html = client.get(doc["links"]["report"]).text
    assert SIMP in html and TRAD not in html


def test_web_page_and_cli_use_the_simplified_field():
    """P15 web page and CLI table: both render quote_zh_hans (falling back to quote for verdicts
    stored before the field existed)."""
    js = (ROOT / "app" / "static" / "app.js").read_text(encoding="utf-8")
    assert "f.basis.quote_zh_hans || f.basis.quote" in js
    from app.cli import _table
    from spatial.verdict import read_document

    finding = {"measure": {}, "borderline": False, "verdict": "restrict", "verdict_zh": "限制",
               "rule_id": RULE_ID, "family": "test", "title_zh": "t",
               "basis": {"document": "d", "clause": "c", "quote": TRAD, "quote_zh_hans": SIMP}}
    text = _table(read_document({
        "verdict_zh": "限制", "verdict": "restrict", "id": "x", "summary_zh": "", "site": {},
        "project": {}, "findings": [finding], "not_evaluated": [], "rules_version": "0" * 64,
        "layers": [], "created_at": "2026-01-01T00:00:00Z"}))
    assert SIMP in text and TRAD not in text
