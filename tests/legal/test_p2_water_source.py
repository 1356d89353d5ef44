"""P2: drinking-water source zones (水污染防治法 第六十四条至第六十七条; 畜禽规模养殖污染防治条例
第十一条) catch livestock farms, landfills, hazardous-waste sites, outfalls and fuel depots."""

from __future__ import annotations

import pytest

from tests.legal.world import INSIDE, OUTSIDE, finding, run, verdicts, zone

FAM = ["water_source"]
L1, L2, QUASI = (zone("water_source", name="测试水源", zone=z) for z in ("level1", "level2", "quasi"))

PIG_FARM = "A0313"  # 猪的饲养
HAZ_WASTE = "N7724"  # 危险废物治理
LANDFILL = "N7820"  # 环境卫生管理 (生活垃圾处理处置)
FUEL_DEPOT = "G5941"  # 油气仓储
SEWAGE = "D4620"  # 污水处理及其再生利用


def test_hazardous_waste_site_in_quasi_zone_is_forbidden():
    """水污染防治法 第六十七条 (禁止在饮用水水源准保护区内新建、扩建对水体污染严重的建设项目):
    a new hazardous-waste disposal site in a quasi zone → forbid (it used to pass)."""
    doc = run(FAM, INSIDE, QUASI, industry=HAZ_WASTE, nature="new")
    assert verdicts(doc)["water-source-quasi-no-serious-polluters"] == "forbid"
    assert doc["verdict"] == "forbid"
    f = finding(doc, "water-source-quasi-no-serious-polluters")
    assert f is not None and "推定" in f["interpretation_zh"]  # the reading is shown to the user


@pytest.mark.parametrize("code", [PIG_FARM, LANDFILL, FUEL_DEPOT])
def test_livestock_landfill_fuel_depot_in_quasi_zone_are_forbidden(code):
    """水污染防治法 第六十七条: livestock farms, landfills and fuel depots are read as seriously
    water-polluting (interpretation_zh) → forbid in the quasi zone."""
    doc = run(FAM, INSIDE, QUASI, industry=code, nature="new")
    assert verdicts(doc)["water-source-quasi-no-serious-polluters"] == "forbid"


@pytest.mark.parametrize("code", [PIG_FARM, LANDFILL, HAZ_WASTE, FUEL_DEPOT, SEWAGE])
def test_polluters_in_level2_zone_are_forbidden(code):
    """水污染防治法 第六十六条 (禁止在饮用水水源二级保护区内新建、改建、扩建排放污染物的建设项目):
    livestock, landfill, hazardous waste, fuel depot, sewage works → forbid, also when rebuilt."""
    for nature in ("new", "rebuild"):
        doc = run(FAM, INSIDE, L2, industry=code, nature=nature)
        assert verdicts(doc)["water-source-level2-no-polluting-industry"] == "forbid", nature


def test_livestock_farm_in_level1_and_level2_is_forbidden_by_the_livestock_regulation():
    """畜禽规模养殖污染防治条例 第十一条第(一)项 (禁止在饮用水水源保护区建设畜禽养殖场) → forbid."""
    for layer in (L1, L2):
        doc = run(FAM, INSIDE, layer, industry=PIG_FARM, nature="new")
        assert verdicts(doc)["water-source-no-livestock-farm"] == "forbid"


@pytest.mark.parametrize("code", [PIG_FARM, LANDFILL, HAZ_WASTE, FUEL_DEPOT, SEWAGE])
def test_everything_unrelated_to_water_supply_in_level1_is_forbidden(code):
    """水污染防治法 第六十五条 (禁止在一级保护区内新建、改建、扩建与供水设施和保护水源无关的建设项目)."""
    doc = run(FAM, INSIDE, L1, industry=code, nature="new")
    assert verdicts(doc)["water-source-level1-no-unrelated-construction"] == "forbid"


def test_outfalls_forbidden_in_level1_and_level2_restricted_in_quasi():
    """水污染防治法 第六十四条 (在饮用水水源保护区内，禁止设置排污口) → forbid in level 1/2;
    第六十七条 → an outfall in the quasi zone is restricted (must not add discharge)."""
    for layer in (L1, L2):
        doc = run(FAM, INSIDE, layer, industry="K7010", nature="new", flags=["outfall"])
        assert verdicts(doc)["water-source-no-outfall"] == "forbid"
    doc = run(FAM, INSIDE, QUASI, industry="K7010", nature="new", flags=["outfall"])
    assert verdicts(doc) == {"water-source-quasi-outfall-restrict": "restrict"}


def test_sewage_works_and_expansions_in_quasi_zone_are_restricted():
    """水污染防治法 第六十七条 (……改建建设项目，不得增加排污量): a sewage works (not read as seriously
    polluting) or a rebuilt hazardous-waste site in the quasi zone → restrict, not pass."""
    doc = run(FAM, INSIDE, QUASI, industry=SEWAGE, nature="new")
    assert doc["verdict"] == "restrict"
    assert verdicts(doc)["water-source-quasi-industrial-restrict"] == "restrict"
    doc = run(FAM, INSIDE, QUASI, industry=HAZ_WASTE, nature="rebuild")
    assert verdicts(doc) == {"water-source-quasi-industrial-restrict": "restrict"}


def test_hazardous_waste_site_10m_outside_the_quasi_zone_is_silent():
    """水污染防治法 第六十七条 binds only inside the zone: 10 m outside → pass."""
    doc = run(FAM, OUTSIDE, QUASI, industry=HAZ_WASTE, nature="new")
    assert doc["verdict"] == "pass" and not doc["findings"]


def test_housing_in_quasi_zone_is_not_a_polluter():
    """水污染防治法 第六十七条: housing (K7010) is not a seriously polluting project → pass."""
    doc = run(FAM, INSIDE, QUASI, industry="K7010", nature="new")
    assert doc["verdict"] == "pass"


def test_parks_in_water_source_zones_are_bound_by_type():
    """水污染防治法 第六十六条、第六十七条: an industrial park (no industry code) in a level-2 zone
    → forbid; a chemical park or tailings pond in a quasi zone → forbid."""
    doc = run(FAM, INSIDE, L2, type="industrial_park", nature="new")
    assert verdicts(doc)["water-source-level2-no-polluting-industry"] == "forbid"
    for ptype in ("chemical_park", "tailings_pond"):
        doc = run(FAM, INSIDE, QUASI, type=ptype, nature="new")
        assert verdicts(doc)["water-source-quasi-no-serious-polluters"] == "forbid", ptype
