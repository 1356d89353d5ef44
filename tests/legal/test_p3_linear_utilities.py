"""P3: linear utilities that discharge nothing (power, telecom lines) are restricted, not
forbidden, in level-2 water-source zones (水污染防治法 第六十六条) and in a nature reserve's
experimental zone (自然保护区条例 第三十二条); level 1 still forbids them (第六十五条)."""

from __future__ import annotations

import dataclasses

import pytest
from shapely.geometry import LineString

from spatial.project import Project
from spatial.screening.evaluation import screen
from spatial.sites.site import build_site
from tests import synth
from tests.legal.world import INSIDE, RULESET, finding, run, verdicts, zone

L1, L2 = (zone("water_source", name="测试水源", zone=z) for z in ("level1", "level2"))
EXPERIMENTAL = zone("protected_area", name="测试保护区", category="nature_reserve",
                    level="municipal", zone="experimental")
UTILITIES = ["D4420", "I6312", "E4851"]  # 电力供应, 移动电信服务, 架线及设备工程建筑


@pytest.mark.parametrize("code", UTILITIES)
def test_power_or_telecom_line_in_level2_zone_is_restricted_not_forbidden(code):
    """水污染防治法 第六十六条 bans only projects that discharge pollutants: a power/telecom
    line in a level-2 zone → restrict (prove no discharge), never forbid."""
    doc = run(["water_source"], INSIDE, L2, industry=code, nature="new")
    assert doc["verdict"] == "restrict"
    assert verdicts(doc) == {"water-source-level2-no-discharge-proof": "restrict"}


def test_power_line_in_level1_zone_is_still_forbidden():
    """水污染防治法 第六十五条 (与供水设施和保护水源无关的建设项目): a power line in level 1 → forbid."""
    doc = run(["water_source"], INSIDE, L1, industry="D4420", nature="new")
    assert verdicts(doc)["water-source-level1-no-unrelated-construction"] == "forbid"


@pytest.mark.parametrize("code", UTILITIES)
def test_power_or_telecom_line_in_experimental_zone_is_restricted(code):
    """自然保护区条例 第三十二条 (实验区内不得建设污染环境、破坏资源或者景观的生产设施):
    a non-polluting line → restrict with conditions, not forbid."""
    doc = run(["nature_reserve"], INSIDE, EXPERIMENTAL, industry=code, nature="new")
    assert verdicts(doc) == {"nature-reserve-experimental-restrict": "restrict"}
    f = finding(doc, "nature-reserve-experimental-restrict")
    assert f is not None and any("线性设施" in r for r in f["requirements_zh"])


def test_power_line_corridor_through_level2_zone():
    """水污染防治法 第六十六条: a 20 m corridor crossing a level-2 zone, power supply → restrict."""
    line = synth.ll(LineString([(-18_000, 0), (-12_000, 0)]))
    site = build_site(line, corridor_width_m=20)
    rs = dataclasses.replace(RULESET, rules=tuple(r for r in RULESET.rules
                                                  if r.family == "water_source"))
    doc = screen(site, Project.from_dict({"industry": "D4420", "nature": "new"}, RULESET.catalogue),
                 synth.layerset(synth.district_layer(), L2), rs).as_doc()
    assert doc["verdict"] == "restrict"


@pytest.mark.parametrize("code", ["C3011", "D4411"])  # 水泥制造, 火力发电
def test_polluting_plants_stay_forbidden_in_level2_and_experimental_zones(code):
    """水污染防治法 第六十六条 / 自然保护区条例 第三十二条: a cement or thermal power plant
    (discharges pollutants) → forbid in both."""
    assert verdicts(run(["water_source"], INSIDE, L2, industry=code, nature="new"))[
        "water-source-level2-no-polluting-industry"] == "forbid"
    assert verdicts(run(["nature_reserve"], INSIDE, EXPERIMENTAL, industry=code, nature="new"))[
        "nature-reserve-experimental-no-polluting-facility"] == "forbid"
