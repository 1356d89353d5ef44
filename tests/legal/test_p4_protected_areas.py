"""P4: protected areas that are not nature reserves — forest parks (森林公园管理办法 第十一条) and
scenic areas (风景名胜区条例 第二十六条、第二十七条), on tiny hand-made layers."""

from __future__ import annotations

from spatial.render.report import render_report
from spatial.verdict import read_document
from tests.legal.world import INSIDE, OUTSIDE, finding, run, verdicts, zone


def park(category: str, zone_: str = "none"):
    return zone("protected_area", name="测试公园", category=category, level="municipal",
                zone=zone_)


def test_quarry_in_forest_park_is_forbidden():
    """森林公园管理办法 第十一条 「禁止在森林公园毁林开垦和毁林采石、采砂、采土…」: a new quarry
    (B1019 粘土及其他土砂石开采) in a forest park → forbid, basis verified false (依据待核实),
    interpretation (毁林 presumed) shown."""
    doc = run(["nature_reserve"], INSIDE, park("forest_park"), industry="B1019", nature="new")
    f = finding(doc, "forest-park-no-quarrying")
    assert f is not None and f["verdict"] == "forbid" and doc["verdict"] == "forbid"
    assert f["basis"]["verified"] is False and "毁林" in f["interpretation_zh"]


def test_quarry_outside_forest_park_or_housing_inside_is_silent():
    """同上: the quarry 10 m outside the park, or housing (K7010) inside it, is not hit by the
    quarrying ban (housing stays restricted by natural-park-restrict)."""
    assert finding(run(["nature_reserve"], OUTSIDE, park("forest_park"), industry="B1019",
                       nature="new"), "forest-park-no-quarrying") is None
    doc = run(["nature_reserve"], INSIDE, park("forest_park"), industry="K7010", nature="new")
    assert verdicts(doc) == {"natural-park-restrict": "restrict"}


def test_quarry_and_mine_in_scenic_area_are_forbidden():
    """风景名胜区条例 第二十六条第(一)项 (禁止开山、采石、开矿…): a quarry (B1011) and a coal mine
    (B0610) in a scenic area → forbid."""
    for code in ("B1011", "B0610"):
        doc = run(["nature_reserve"], INSIDE, park("scenic_area"), industry=code, nature="new")
        f = finding(doc, "scenic-area-no-quarrying-mining")
        assert f is not None and f["verdict"] == "forbid", code


def test_dangerous_goods_storage_in_scenic_area_is_forbidden():
    """风景名胜区条例 第二十六条第(二)项 (禁止修建储存爆炸性、易燃性、放射性、毒害性、腐蚀性物品的
    设施): an oil depot (G5941) and a hazardous-chemicals warehouse (G5942) → forbid; the same in a
    forest park → not hit by this rule (the article is on scenic areas)."""
    for code in ("G5941", "G5942"):
        doc = run(["nature_reserve"], INSIDE, park("scenic_area"), industry=code, nature="new")
        f = finding(doc, "scenic-area-no-dangerous-goods-storage")
        assert f is not None and f["verdict"] == "forbid", code
    doc = run(["nature_reserve"], INSIDE, park("forest_park"), industry="G5942", nature="new")
    assert finding(doc, "scenic-area-no-dangerous-goods-storage") is None


def test_ordinary_warehouse_in_scenic_area_is_not_a_dangerous_goods_facility():
    """同上: general warehousing (G5920 通用仓储) is not 储存危险物品的设施 → silent on that rule."""
    doc = run(["nature_reserve"], INSIDE, park("scenic_area"), industry="G5920", nature="new")
    assert finding(doc, "scenic-area-no-dangerous-goods-storage") is None


def test_hotel_in_scenic_core_is_restricted_with_interpretation_in_the_report():
    """风景名胜区条例 第二十七条 (禁止违反规划在核心景区内建设宾馆…与风景名胜资源保护无关的其他建筑物):
    a new hotel (H6110) in the core zone → restrict (conformity with the plan cannot be checked);
    the report shows 本工具解释 and 依据待核实."""
    doc = run(["nature_reserve"], INSIDE, park("scenic_area", "core"), industry="H6110",
              nature="new")
    f = finding(doc, "scenic-core-no-unrelated-buildings")
    assert f is not None and f["verdict"] == "restrict"
    html = render_report(read_document({**doc, "id": "t", "created_at": "2026-01-01T00:00:00Z"}))
    assert "本工具解释" in html and "依据待核实" in html and "违反风景名胜区规划" in html


def test_hotel_outside_scenic_core_is_not_hit_by_article_27():
    """同上: the same hotel in a scenic area's non-core zone → no Art. 27 finding."""
    doc = run(["nature_reserve"], INSIDE, park("scenic_area", "none"), industry="H6110",
              nature="new")
    assert finding(doc, "scenic-core-no-unrelated-buildings") is None
