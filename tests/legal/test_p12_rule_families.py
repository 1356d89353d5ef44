"""P12: the rule families the seeds hold that had no rule — green buffer and river management
range, soil-polluting projects near sensitive receptors, the Jialing upstream of the 沙坪坝
water sources, forest land, outfall zones, coal use, independent cement grinding and 铜梁's
high-carbon capacity — each on tiny hand-made layers (world.py: 沙坪坝 x < 0, 500107 east)."""

from __future__ import annotations

from shapely.geometry import box

from tests import synth
from tests.legal.world import HALF, INSIDE, OUTSIDE, ZONE_X, finding, run, verdicts, zone

EAST_X = 15_000.0  # a feature in the neighbour district 500107, outside every 沙坪坝 rule
EAST_INSIDE = synth.square(EAST_X, 0, 100)


def away(metres: float):
    """A 200 m square whose west edge lies ``metres`` east of the zone feature."""
    return box(ZONE_X + HALF + metres, -100, ZONE_X + HALF + metres + 200, 100)


def east_zone(kind: str, **attrs):
    return synth.layer(kind, [(synth.square(EAST_X, 0, HALF), attrs)])


# ----------------------------------------------------------------- 004 L720 green buffer strip

GREEN = {"name": "测试绿化缓冲带", "zone": "green_buffer"}
MANAGED = {"name": "测试河道管理范围", "zone": "management_range"}


def test_building_in_green_buffer_is_forbidden():
    """004:L720 「绿化缓冲带内……除护岸工程、市政设施等必要的建设外,禁止修建任何建筑物和构筑物」:
    new housing (K7010) in the green buffer in 沙坪坝 → forbid; a rebuild (改建 is 修建) too."""
    for nature in ("new", "rebuild"):
        doc = run(["river_management"], INSIDE, zone("river_management", **GREEN),
                  industry="K7010", nature=nature)
        assert verdicts(doc) == {"jialing-green-buffer-no-buildings": "forbid"}, nature
        assert doc["verdict"] == "forbid"


def test_bank_protection_and_afforestation_in_green_buffer_are_not_forbidden():
    """同上 (除护岸工程、市政设施等必要的建设外): bank protection (E4822 河湖治理及防洪设施) and a
    municipal road (E4813) → restrict; afforestation (A0220) → advisory, never forbid."""
    for code, verdict in (("E4822", "restrict"), ("E4813", "restrict"), ("A0220", "advisory")):
        doc = run(["river_management"], INSIDE, zone("river_management", **GREEN),
                  industry=code, nature="new")
        assert verdicts(doc) == {"jialing-green-buffer-no-buildings": verdict}, code


def test_building_outside_green_buffer_or_outside_shapingba_is_silent():
    """同上: housing 10 m outside the strip → no finding; a green buffer in another district is
    outside the 沙坪坝 plan → no finding (the management-range rule is separate)."""
    assert run(["river_management"], OUTSIDE, zone("river_management", **GREEN),
               industry="K7010", nature="new")["findings"] == []
    assert run(["river_management"], EAST_INSIDE, east_zone("river_management", **GREEN),
               industry="K7010", nature="new")["findings"] == []


def test_building_in_river_management_range_is_forbidden_citywide():
    """防洪法 第二十二条第二款 「禁止在河道、湖泊管理范围内建设妨碍行洪的建筑物、构筑物」: housing in
    a management range, in 沙坪坝 or in 500107 → forbid, basis 依据待核实 (verified false)."""
    for site, layer in ((INSIDE, zone("river_management", **MANAGED)),
                        (EAST_INSIDE, east_zone("river_management", **MANAGED))):
        doc = run(["river_management"], site, layer, industry="K7010", nature="new")
        f = finding(doc, "river-management-range-no-flood-obstruction")
        assert f is not None and f["verdict"] == "forbid" and f["basis"]["verified"] is False


def test_bridge_in_river_management_range_is_restricted():
    """同上, with 防洪法 第二十七条 (跨河工程设施经审查同意): a bridge (E4819) → restrict."""
    doc = run(["river_management"], INSIDE, zone("river_management", **MANAGED),
              industry="E4819", nature="new")
    assert verdicts(doc) == {"river-management-range-no-flood-obstruction": "restrict"}


# ----------------------------------------------------------------- 004 L837 sensitive receptors

SCHOOL = {"name": "测试学校", "category": "school"}
FORBID, RESTRICT = ("soil-polluting-near-sensitive-receptor-forbid",
                    "soil-polluting-near-sensitive-receptor-restrict")


def test_soil_polluting_project_next_to_school_is_forbidden():
    """004:L837 「禁止在居民区、学校、医院等敏感区周边建设可能造成土壤污染的项目」: a chemical plant
    (C2614) 10 m from a school → forbid (周边 certainly includes 100 m; interpretation shown)."""
    doc = run(["soil"], OUTSIDE, zone("sensitive_receptor", **SCHOOL), industry="C2614",
              nature="new")
    assert verdicts(doc) == {FORBID: "forbid", RESTRICT: "restrict"}
    assert doc["verdict"] == "forbid" and "周边" in finding(doc, FORBID)["interpretation_zh"]


def test_soil_polluting_project_within_1km_is_restricted_and_farther_is_silent():
    """同上: electroplating (C3360) 500 m from a hospital → restrict only; 1.5 km away → none."""
    hospital = zone("sensitive_receptor", name="测试医院", category="hospital")
    doc = run(["soil"], away(500), hospital, industry="C3360", nature="new")
    assert verdicts(doc) == {RESTRICT: "restrict"}
    assert run(["soil"], away(1500), hospital, industry="C3360", nature="new")["findings"] == []


def test_non_polluting_project_next_to_school_is_silent():
    """同上: housing (K7010) or a software firm (I6513) next to a school is not a soil-polluting
    project → no finding."""
    for code in ("K7010", "I6513"):
        doc = run(["soil"], OUTSIDE, zone("sensitive_receptor", **SCHOOL), industry=code,
                  nature="new")
        assert doc["findings"] == [], code


# ------------------------------------------------- 004 L837 the Jialing upstream of the sources

RIVERSIDE = {"name": "测试沿江河地区", "protects": "高家花园、井口饮用水水源地"}
NAMED, TOXIC = "jialing-upstream-source-chemical-paper-dyeing", "jialing-upstream-source-toxic-discharge"


def test_paper_and_dyeing_upstream_of_the_sources_are_restricted():
    """004:L837 「……严格限制建设可能对高家花园、井口等饮用水源地带来安全隐患的化工、造纸、印染……
    的工业项目」: a paper mill (C2221) and a dyeing plant (C1713) in the riverside area → restrict,
    with the garbled 禁止/严格限制 stated as interpretation."""
    for code in ("C2221", "C1713"):
        doc = run(["jialing"], INSIDE, zone("riverside_area", **RIVERSIDE), industry=code,
                  nature="new")
        f = finding(doc, NAMED)
        assert f is not None and f["verdict"] == "restrict", code
        assert "严格限制" in f["interpretation_zh"]


def test_toxic_discharge_upstream_of_the_sources_is_restricted():
    """同上 (排放有毒有害物质和重金属的工业项目): a machinery plant (C3411) declaring toxic_discharge →
    restrict; electroplating (C3360, heavy-metal flag implied) → both rules."""
    layer = zone("riverside_area", **RIVERSIDE)
    doc = run(["jialing"], INSIDE, layer, industry="C3411", nature="new", flags=["toxic_discharge"])
    assert verdicts(doc) == {TOXIC: "restrict"}
    doc = run(["jialing"], INSIDE, layer, industry="C3360", nature="new")
    assert verdicts(doc) == {NAMED: "restrict", TOXIC: "restrict"}


def test_other_projects_or_sites_outside_the_riverside_area_are_silent():
    """同上: housing in the area, or a paper mill 10 m outside it → no finding."""
    layer = zone("riverside_area", **RIVERSIDE)
    assert run(["jialing"], INSIDE, layer, industry="K7010", nature="new")["findings"] == []
    assert run(["jialing"], OUTSIDE, layer, industry="C2221", nature="new")["findings"] == []


# ----------------------------------------------------------------- 004 L712 forest land

def test_construction_on_forest_land_is_restricted():
    """004:L712 「严格限制林地转为建设用地和其他农用地」 and 森林法 第三十七条: housing on planted
    forest land in 沙坪坝 → restrict by both; in 500107 → only the citywide 森林法 rule."""
    doc = run(["forest"], INSIDE, zone("forest_land", name="林", origin="planted"),
              industry="K7010", nature="new")
    assert verdicts(doc) == {"shapingba-forest-land-conversion-restrict": "restrict",
                             "forest-land-occupation-review": "restrict"}
    doc = run(["forest"], EAST_INSIDE, east_zone("forest_land", name="林", origin="planted"),
              industry="K7010", nature="new")
    assert verdicts(doc) == {"forest-land-occupation-review": "restrict"}


def test_commercial_logging_of_natural_forest_is_forbidden():
    """004:L712 「全面禁止天然林商业性采伐」: timber logging (A0241) in natural forest → forbid; the
    same on planted forest, or forest tending (A0231) in natural forest → no logging finding."""
    natural = zone("forest_land", name="天然林", origin="natural")
    doc = run(["forest"], INSIDE, natural, industry="A0241", nature="new")
    assert finding(doc, "shapingba-natural-forest-no-commercial-logging")["verdict"] == "forbid"
    assert doc["verdict"] == "forbid"
    planted = run(["forest"], INSIDE, zone("forest_land", name="林", origin="planted"),
                  industry="A0241", nature="new")
    tending = run(["forest"], INSIDE, natural, industry="A0231", nature="new")
    for doc in (planted, tending):
        assert "forbid" not in verdicts(doc).values()
        assert finding(doc, "shapingba-natural-forest-no-commercial-logging") is None


def test_housing_off_forest_land_is_silent():
    """同上: housing 10 m outside the forest → no finding."""
    assert run(["forest"], OUTSIDE, zone("forest_land", name="林", origin="natural"),
               industry="K7010", nature="new")["findings"] == []


# ----------------------------------------------------------------- 004 L819 outfall zones

def test_outfall_in_prohibited_zone_is_forbidden():
    """004:L819 「组织划定入河排污口禁止设置和限制设置区域」: a sewage plant (D4620) with a new outfall
    in a prohibited zone → forbid (+ 水法 第三十四条 consent, restrict); a rebuilt outfall too."""
    layer = zone("outfall_zone", name="禁设区", zone="prohibited")
    for nature in ("new", "rebuild"):
        doc = run(["outfall"], INSIDE, layer, industry="D4620", nature=nature, flags=["outfall"])
        assert verdicts(doc) == {"shapingba-outfall-prohibited-zone": "forbid",
                                 "outfall-zone-consent": "restrict"}, nature


def test_outfall_in_restricted_zone_is_restricted_and_no_outfall_is_silent():
    """004:L819 「新、改、扩建入河(湖)排污口应当符合水功能区划……按要求进行论证」: an outfall in a
    restricted zone → restrict; the same plant without an outfall, or outside the zone → none."""
    layer = zone("outfall_zone", name="限设区", zone="restricted")
    doc = run(["outfall"], INSIDE, layer, industry="D4620", nature="new", flags=["outfall"])
    assert verdicts(doc) == {"shapingba-outfall-restricted-zone": "restrict",
                             "outfall-zone-consent": "restrict"}
    assert run(["outfall"], INSIDE, layer, industry="D4620", nature="new")["findings"] == []
    assert run(["outfall"], OUTSIDE, layer, industry="D4620", nature="new",
               flags=["outfall"])["findings"] == []


# ----------------------------------------------------------------- 000 L91 coal

def test_new_coal_consuming_project_needs_reduction_replacement_anywhere():
    """000:L91 「新建耗煤项目实行煤炭减量替代」: a new project declaring a coal boiler (which implies
    coal_use) → restrict anywhere in the city; a rebuild → silent."""
    doc = run(["air"], INSIDE, industry="C1761", nature="new", flags=["coal_boiler"])
    assert finding(doc, "coal-use-reduction-replacement")["verdict"] == "restrict"
    assert doc["project"]["flags_implied"] == ["coal_use"]
    doc = run(["air"], INSIDE, industry="C1761", nature="rebuild", flags=["coal_use"])
    assert finding(doc, "coal-use-reduction-replacement") is None


def test_small_coal_boiler_in_industrial_park_is_restricted():
    """000:L91 「各区县城市建成区、工业园区基本淘汰35蒸吨/小时以下燃煤锅炉」: a coal boiler inside an
    industrial park → restrict; 10 m outside the park → no park finding."""
    park = zone("industrial_park", name="园区", compliant=True, chemical=False)
    doc = run(["air"], INSIDE, park, industry="C1761", nature="new", flags=["coal_boiler"])
    assert finding(doc, "air-park-small-coal-boiler")["verdict"] == "restrict"
    doc = run(["air"], OUTSIDE, park, industry="C1761", nature="new", flags=["coal_boiler"])
    assert finding(doc, "air-park-small-coal-boiler") is None


# ----------------------------------------------------------------- 001 L27 cement grinding

def test_declared_independent_grinding_station_is_forbidden():
    """001:L27 「不再新增獨立的水泥粉磨產能」: a cement project (C3011) declared an independent
    grinding station → forbid; without the declaration → restrict (cannot tell), never forbid."""
    doc = run(["industry_only"], INSIDE, industry="C3011", nature="new",
              flags=["independent_grinding"])
    assert finding(doc, "cement-independent-grinding-forbid")["verdict"] == "forbid"
    assert finding(doc, "cement-grinding-no-new-independent-capacity") is None
    doc = run(["industry_only"], INSIDE, industry="C3011", nature="new")
    assert finding(doc, "cement-grinding-no-new-independent-capacity")["verdict"] == "restrict"
    assert finding(doc, "cement-independent-grinding-forbid") is None


def test_rebuilt_grinding_station_adds_no_capacity():
    """同上: a rebuild of a declared grinding station adds no capacity → no grinding finding."""
    doc = run(["industry_only"], INSIDE, industry="C3011", nature="rebuild",
              flags=["independent_grinding"])
    assert finding(doc, "cement-independent-grinding-forbid") is None


# ----------------------------------------------------------------- 003 L400 铜梁 high carbon

def test_new_high_carbon_capacity_in_tongliang_is_restricted():
    """003:L400 「严格控制高碳排放产业新建、扩建产能」: a new cement plant (C3011) or an expanded steel
    works (C3120) in 铜梁 (500151) → restrict, interpretation of 高碳排放产业 shown."""
    for code, nature in (("C3011", "new"), ("C3120", "expansion")):
        doc = run(["tongliang"], INSIDE, district="500151", industry=code, nature=nature)
        f = finding(doc, "tongliang-high-carbon-new-capacity")
        assert f is not None and f["verdict"] == "restrict", code
        assert "碳排放清单" in f["interpretation_zh"]


def test_high_carbon_outside_tongliang_or_low_carbon_inside_is_silent():
    """同上: the cement plant in 沙坪坝, or housing (K7010) in 铜梁 → no finding."""
    assert run(["tongliang"], INSIDE, industry="C3011", nature="new")["findings"] == []
    assert run(["tongliang"], INSIDE, district="500151", industry="K7010",
               nature="new")["findings"] == []
