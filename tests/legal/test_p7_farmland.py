"""P7: permanent basic farmland — only tillage crops are exempt; orchards (林果业), fish ponds
(挖塘养鱼) and nursery stock (苗木) are forbidden (土地管理法实施条例 第十二条; 基本农田保护条例
第十七条; 自然资发〔2021〕166号)."""

from __future__ import annotations

import pytest

from tests.legal.world import INSIDE, OUTSIDE, run, verdicts, zone

FARMLAND = zone("basic_farmland")
FAM = ["farmland"]


@pytest.mark.parametrize("code", [
    "A0153",  # 柑橘类种植 (林果业)
    "A0164",  # 茶叶种植 (林果业, interpretation)
    "A0412",  # 内陆养殖 (挖塘养鱼)
    "A0212",  # 林木育苗 (苗木)
    "A0220",  # 造林和更新
])
def test_orchard_fish_pond_nursery_on_basic_farmland_is_forbidden(code):
    """土地管理法实施条例 第十二条 (禁止占用永久基本农田发展林果业和挖塘养鱼) and 自然资发〔2021〕166号
    (不得种植苗木): → forbid (basic-farmland-no-orchard-fishpond-nursery)."""
    doc = run(FAM, INSIDE, FARMLAND, industry=code, nature="new")
    assert verdicts(doc) == {"basic-farmland-no-orchard-fishpond-nursery": "forbid"}
    assert doc["verdict"] == "forbid"


@pytest.mark.parametrize("code", ["A0111", "A0141", "A0171"])  # 稻谷, 蔬菜, 中草药
def test_tillage_crops_on_basic_farmland_pass(code):
    """基本农田保护条例 第十五条: growing field crops is the farmland's use → pass."""
    doc = run(FAM, INSIDE, FARMLAND, industry=code, nature="new")
    assert doc["verdict"] == "pass" and not doc["findings"]


def test_flowers_on_basic_farmland_are_restricted():
    """自然资发〔2021〕166号 (不得种植苗木、草皮等用于绿化装饰……的植物): flowers (A0143) may be
    greening stock → restrict with a requirement to show they are not."""
    doc = run(FAM, INSIDE, FARMLAND, industry="A0143", nature="new")
    assert verdicts(doc) == {"basic-farmland-flowers-turf-check": "restrict"}


def test_coarse_agriculture_code_is_not_cleared():
    """基本农田保护条例 第十五条: "A01" alone cannot tell rice from orchards → indeterminate, never pass."""
    doc = run(FAM, INSIDE, FARMLAND, industry="A01", nature="new")
    assert doc["verdict"] == "indeterminate"


def test_orchard_10m_off_the_farmland_is_silent():
    """土地管理法实施条例 第十二条 binds only on the farmland: 10 m outside → pass."""
    doc = run(FAM, OUTSIDE, FARMLAND, industry="A0153", nature="new")
    assert doc["verdict"] == "pass"


def test_livestock_and_housing_on_basic_farmland_stay_forbidden():
    """基本农田保护条例 第十五条 (任何单位和个人不得改变或者占用): housing or a pig farm → forbid."""
    for code in ("K7010", "A0313"):
        doc = run(FAM, INSIDE, FARMLAND, industry=code, nature="new")
        assert verdicts(doc)["basic-farmland-no-occupation"] == "forbid", code
