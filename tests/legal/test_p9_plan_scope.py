"""P9: plan scope. The 沙坪坝 plan (seed 004 L11 「规划范围为重庆市沙坪坝区行政区划范围(不含高新区)」)
does not govern the 高新区直管园: every rule citing seed 004 is judged on the site minus the
``hitech_zone`` layer, and a site inside it gets the advisory shapingba-plan-scope-hitech-zone."""

from __future__ import annotations

from shapely.geometry import box

from tests.legal.world import INSIDE, OUTSIDE, ZONE_X, finding, river, run, verdicts, zone

HITECH = zone("hitech_zone", name="重庆高新区直管园（测试）")
CHEM = {"industry": "C2614", "nature": "new"}
BAN = "shapingba-no-new-chemical-cement-brick"
SCOPE = "shapingba-plan-scope-hitech-zone"


def test_chemical_plant_inside_the_hitech_zone_is_not_judged_by_the_shapingba_plan():
    """seed 004 L11 (不含高新区) with 第五章第一节 (全区禁止新建化工企业): a chemical plant wholly
    inside the 高新区 → the district-wide ban does not apply; advisory names the plan → pass."""
    doc = run(["shapingba"], INSIDE, HITECH, **CHEM)
    assert verdicts(doc) == {SCOPE: "advisory"}
    assert "高新区" in finding(doc, SCOPE)["message_zh"]
    assert doc["verdict"] == "pass"


def test_chemical_plant_outside_the_hitech_zone_is_forbidden():
    """seed 004 第五章第一节: the same plant 10 m outside the 高新区 (still in 沙坪坝) → forbid,
    no advisory."""
    doc = run(["shapingba"], OUTSIDE, HITECH, **CHEM)
    assert verdicts(doc)[BAN] == "forbid" and SCOPE not in verdicts(doc)
    assert doc["verdict"] == "forbid"


def test_a_site_straddling_the_zone_edge_is_judged_on_its_shapingba_part():
    """seed 004 L11 + 第五章第一节: a site half in the 高新区 → forbid on the part outside,
    plus the advisory."""
    site = box(ZONE_X + 900, -100, ZONE_X + 1_100, 100)
    doc = run(["shapingba"], site, HITECH, **CHEM)
    assert verdicts(doc)[BAN] == "forbid" and verdicts(doc)[SCOPE] == "advisory"
    assert doc["verdict"] == "forbid"


def test_without_a_hitech_layer_the_plan_applies_to_the_whole_district():
    """No hitech_zone layer: nothing is carved out (never a pass by omission) → forbid."""
    doc = run(["shapingba"], INSIDE, **CHEM)
    assert verdicts(doc)[BAN] == "forbid" and doc["verdict"] == "forbid"


def test_jialing_1km_ban_of_the_plan_does_not_reach_into_the_hitech_zone():
    """seed 004 第四章 (嘉陵江岸线一公里, jialing-1km-chemical-risk-ban) under L11: a chemical plant
    300 m from the Jialing but inside the 高新区 → not forbidden by the plan (the 长江保护法
    rules are another family) → pass; 100 m north of the zone → forbid."""
    jialing = river("嘉陵江", "important_tributary")
    inside = box(ZONE_X + 300, -50, ZONE_X + 400, 50)
    doc = run(["jialing"], inside, jialing, HITECH, **CHEM)
    assert finding(doc, "jialing-1km-chemical-risk-ban") is None and doc["verdict"] == "pass"
    north = box(ZONE_X + 300, 1_100, ZONE_X + 400, 1_200)  # 100 m north of the zone
    doc = run(["jialing"], north, jialing, HITECH, **CHEM)
    assert finding(doc, "jialing-1km-chemical-risk-ban")["verdict"] == "forbid"
