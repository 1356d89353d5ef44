"""P13: citations that can be traced (docs/rule-format.md "Verified citations"). No rule quotes only
a zone name or says 待核对; every rule whose quote is not checked against a stored text carries
`basis.verified: false`, and the finding (API), the HTML report and the CLI table say 依据待核实."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from app.cli import _table
from spatial.render.report import render_report
from spatial.verdict import read_document
from tests.legal.world import INSIDE, OUTSIDE, RULESET, finding, run, zone
from tests.test_rule_families import SPATIAL, _project, _run, _sites

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("rules_review", ROOT / "scripts" / "rules_review.py")
assert _spec is not None and _spec.loader is not None
review = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(review)

UNVERIFIED = [r for r in SPATIAL if not r.basis.verified]
HOUSING = {"industry": "K7010", "nature": "new"}


def test_no_quote_is_only_a_zone_name_and_none_awaits_checking():
    """P13: no rule's quote is a bare zone name (四山 「禁建区」 was) and no clause or quote carries
    条号待核对 / 待核对; a seed quote has a line reference or is not verified."""
    for r in RULESET.rules:
        b = r.basis
        assert not review.is_zone_name_only(b.quote), r.id
        assert "待核对" not in b.clause and "待核对" not in b.quote, r.id
        assert "未逐字核对" not in b.clause, r.id  # say verified: false instead
        if b.verified:
            assert b.source.startswith("seed:") and b.lines, r.id


def test_statute_quotes_are_never_verified_and_the_review_table_agrees():
    """P13: a quote from a statute not stored here (森林公园管理办法 第十一条, 风景名胜区条例
    第二十六条, 水土保持法 第二十五条) is verified: false; docs/rules-review.md says no for it."""
    for r in RULESET.rules:
        if not r.basis.source.startswith("seed:"):
            assert r.basis.verified is False, r.id
        assert review.verified(r).startswith("yes") is r.basis.verified, r.id


@pytest.mark.parametrize("rule", UNVERIFIED, ids=[r.id for r in UNVERIFIED])
def test_unverified_rule_shows_basis_to_be_checked_in_finding_report_and_cli(rule):
    """P13: each verified: false rule, fired on a tiny world, gives a finding whose basis has
    verified false; the report HTML and the CLI table print 依据待核实 (and 本工具解释 when the
    rule has an interpretation)."""
    project = _project(rule)
    assert project is not None
    fired, _ = _sites(rule)
    doc = {**_run(rule, fired, project), "id": "test", "created_at": "2026-01-01T00:00:00Z"}
    f = next(x for x in doc["findings"] if x["rule_id"] == rule.id)
    assert f["basis"]["verified"] is False
    html = render_report(read_document(doc))
    assert "依据待核实" in html and "依据待核实" in _table(read_document(doc))
    if rule.interpretation_zh:
        assert "本工具解释" in html and "本工具解释" in _table(read_document(doc))


def test_four_mountains_no_build_cites_the_city_plan_and_is_marked_unverified():
    """重庆市生态环境保护“十四五”规划 000:L105 「保护好“四山”重要生态屏障」 + the 四山 regulation
    (not stored): housing in a 禁建区 → forbid, basis verified false, interpretation shown."""
    doc = run(["four_mountains"], INSIDE, zone("four_mountains", mountain="中梁山", zone="no_build"),
              **HOUSING)
    f = finding(doc, "four-mountains-no-build-zone")
    assert f is not None and f["verdict"] == "forbid"
    assert f["basis"]["lines"] == "000:L105" and f["basis"]["verified"] is False
    assert "管制规定" in f["interpretation_zh"]


def test_four_mountains_silent_outside_the_zone():
    """同上: a site 10 m outside the 禁建区 is not hit."""
    doc = run(["four_mountains"], OUTSIDE,
              zone("four_mountains", mountain="中梁山", zone="no_build"), **HOUSING)
    assert finding(doc, "four-mountains-no-build-zone") is None


def test_air_zone_coal_rule_cites_the_coal_clause_L91():
    """重庆市生态环境保护“十四五”规划 第三章 第一节 000:L91 「新建耗煤项目实行煤炭减量替代」: a coal
    boiler in the air key-control zone → restrict, citing L91 (not L106, which only names the
    zone), verified."""
    doc = run(["air"], INSIDE, zone("air_key_control_zone"), industry="K7010", nature="new",
              flags=["coal_boiler"])
    f = finding(doc, "air-key-zone-coal-boiler-restrict")
    assert f is not None and f["verdict"] == "restrict"
    assert f["basis"]["lines"] == "000:L91" and f["basis"]["verified"] is True
    assert "煤炭减量替代" in f["basis"]["quote"]
    doc = run(["air"], INSIDE, zone("air_key_control_zone"), **HOUSING)
    assert finding(doc, "air-key-zone-coal-boiler-restrict") is None


def test_geohazard_quarrying_is_scoped_to_shapingba():
    """沙坪坝区规划(征求意见稿) 004:L722 「禁止在崩塌、滑坡危险区和泥石流易发区从事取土、挖砂、采石…」:
    quarrying (B1019) in a landslide zone in 沙坪坝 → forbid; the same in the neighbouring district
    (500107) → silent for that rule (the quote is 沙坪坝's), but forbidden there by the citywide
    rule citing 水土保持法 第十七条第二款, marked unverified — never a pass."""
    hz = zone("geohazard", hazard="landslide")
    doc = run(["geohazard"], INSIDE, hz, industry="B1019", nature="new")
    f = finding(doc, "geohazard-no-quarrying")
    assert f is not None and f["verdict"] == "forbid" and f["interpretation_zh"]
    from shapely.affinity import translate

    from tests import synth
    east = synth.layer("geohazard", [(synth.square(15_000, 0, 1_000), {"hazard": "landslide"})])
    doc = run(["geohazard"], translate(INSIDE, 30_000), east, industry="B1019", nature="new")
    assert finding(doc, "geohazard-no-quarrying") is None
    national = finding(doc, "geohazard-no-quarrying-national")
    assert national is not None and national["verdict"] == "forbid"
    assert national["basis"]["verified"] is False
    assert doc["verdict"] == "forbid"


def test_slope_rules_cite_what_they_apply():
    """水土保持法 第二十五条 (水土保持方案) for the slope rule, not 第二十条 (cultivation); the
    steep-slope quarrying rule states that 25° is the tool's reading, not the quote's."""
    slope = next(r for r in RULESET.rules if r.id == "slope-steep-construction-share")
    assert slope is not None and "第二十五条" in slope.basis.clause
    assert "第二十条" not in slope.basis.clause and "水土保持方案" in slope.basis.quote
    assert slope.basis.verified is False
    q = next(r for r in RULESET.rules if r.id == "slope-quarrying-in-geohazard-ban")
    assert q is not None and "25" not in q.basis.quote and "25度" in (q.interpretation_zh or "")
    assert q.where.districts == ["500106"]


def test_api_finding_carries_verified_false(client):
    """API (demo data): housing in the 中梁山 禁建区 → the four-mountains finding's basis has
    verified false, and the HTML report of that screening says 依据待核实 and 本工具解释."""
    body = {"site": {"type": "Point", "coordinates": [106.419497, 29.676787]}, "radius_m": 50,
            "project": HOUSING}
    doc = client.post("/api/v1/screenings", json=body).json()
    f = next(x for x in doc["findings"] if x["rule_id"] == "four-mountains-no-build-zone")
    assert f["basis"]["verified"] is False
    html = client.get(doc["links"]["report"]).text
    assert "依据待核实" in html and "本工具解释" in html


def test_refused_declaration_and_interpretation_are_shown_escaped_in_the_report_and_cli():
    """自然资发〔2022〕142号 (red line): housing (K7010) declared as geological_survey is not
    accepted → forbid; the report and the CLI table show 未采纳的申报 with the reason, and the
    rule text is HTML-escaped."""
    red = zone("eco_redline", name="<b>红线</b>", code="X")
    doc = run(["redline"], INSIDE, red, industry="K7010", nature="new",
              activity=["geological_survey"])
    f = next(x for x in doc["findings"] if x["exception_refused_zh"])
    doc = {**doc, "id": "t", "created_at": "2026-01-01T00:00:00Z"}
    html = render_report(read_document(doc))
    assert "未采纳的申报" in html and f["exception_refused_zh"][0][:8] in html
    assert "<b>红线</b>" not in html
    assert "未采纳的申报" in _table(read_document(doc))


@pytest.mark.parametrize(("rule_id", "kind", "value"), [
    ("eco-importance-extreme-share", "eco_importance", 3),
    ("slope-steep-construction-share", "slope_deg", 30.0),
])
def test_unverified_raster_rules_show_basis_to_be_checked(rule_id, kind, value):
    """生态保护红线划定指南 / 水土保持法 第二十五条 (texts not stored): a new housing site wholly on
    class-3 / 30° cells → the raster rule fires with basis verified false, and the report HTML and
    the CLI table say 依据待核实 and 本工具解释."""
    import numpy as np

    from tests.test_raster import _run as raster_run
    from tests.test_raster import _world as raster_world
    from tests.test_raster import cell_box, raster_layer

    data = np.full((10, 10), value, dtype=np.uint8 if kind == "eco_importance" else np.float32)
    world = raster_world(raster_layer(kind, data, nodata=0 if kind == "eco_importance" else -1))
    doc = raster_run(rule_id, cell_box(1, 1, 4, 4), world, HOUSING)
    f = next(x for x in doc["findings"] if x["rule_id"] == rule_id)
    assert f["basis"]["verified"] is False
    doc = {**doc, "id": "t", "created_at": "2026-01-01T00:00:00Z"}
    html = render_report(read_document(doc))
    assert "依据待核实" in html and "本工具解释" in html
    assert "依据待核实" in _table(read_document(doc)) and "本工具解释" in _table(read_document(doc))
