"""P1: a relocation (异地搬迁、迁建) is new construction at the new site — one definition
(spatial.project.nature_matches), for every rule; 改建 is exempt only where the text says so."""

from __future__ import annotations

import pytest

from spatial.project import NATURES, nature_matches
from spatial.ruleset import ProjectFilter
from tests.legal.world import INSIDE, RULESET, finding, near_river, river, run, verdicts

CHEM = "C2614"  # 有机化学原料制造


def test_relocated_chemical_plant_500m_from_yangtze_is_forbidden():
    """长江保护法 第二十六条第二款 (禁止在长江干支流岸线一公里范围内新建、扩建化工项目):
    a chemical plant relocated to 500 m from the main stem is new there → forbid."""
    doc = run(["yangtze"], near_river(500), river("长江", "mainstem"),
              industry=CHEM, nature="relocation")
    assert verdicts(doc)["yangtze-1km-chemical-project-ban"] == "forbid"
    assert doc["verdict"] == "forbid"


def test_relocated_chemical_park_500m_from_jialing_is_forbidden():
    """沙坪坝区规划(征求意见稿) 第四章 第一节 (禁止在嘉陵江岸线一公里范围内新建、扩建化工园区):
    a chemical park relocated to 500 m from the Jialing in 沙坪坝 → forbid; likewise the
    长江保护法 park ban (嘉陵江 is an important tributary)."""
    doc = run(["jialing", "yangtze"], near_river(500), river("嘉陵江", "important_tributary"),
              type="chemical_park", nature="relocation")
    v = verdicts(doc)
    assert v["jialing-1km-chemical-park-ban"] == "forbid"
    assert v["yangtze-1km-chemical-park-ban"] == "forbid"


def test_relocated_chemical_plant_into_shapingba_is_forbidden():
    """沙坪坝区规划 第五章 第一节 (全区禁止新建……化工企业): relocating into the district → forbid."""
    doc = run(["shapingba"], INSIDE, industry=CHEM, nature="relocation")
    assert verdicts(doc)["shapingba-no-new-chemical-cement-brick"] == "forbid"


def test_rebuilt_chemical_plant_500m_from_yangtze_is_not_hit_by_the_new_build_ban():
    """长江保护法 第二十六条第二款 bans 新建、扩建 only: a 改建 at 500 m → the ban is silent."""
    doc = run(["yangtze"], near_river(500), river("长江", "mainstem"),
              industry=CHEM, nature="rebuild")
    assert finding(doc, "yangtze-1km-chemical-project-ban") is None
    assert doc["verdict"] == "pass"


def test_relocated_chemical_plant_1500m_from_yangtze_is_silent():
    """长江保护法 第二十六条第二款: relocated to 1.5 km from the main stem → outside the ban, pass."""
    doc = run(["yangtze"], near_river(1500), river("长江", "mainstem"),
              industry=CHEM, nature="relocation")
    assert doc["verdict"] == "pass" and not doc["findings"]


def test_tailings_rebuild_keeps_the_statutory_rebuild_exception():
    """长江保护法 第二十六条第三款 (……新建、改建、扩建尾矿库；但是以提升安全、生态环境保护水平为目的的
    改建除外): a rebuilt tailings pond at 2 km → restrict; relocated → forbid (new there)."""
    rebuilt = run(["yangtze"], near_river(2000), river("长江", "mainstem"),
                  type="tailings_pond", nature="rebuild")
    assert verdicts(rebuilt)["yangtze-3km-tailings-mainstem-ban"] == "restrict"
    moved = run(["yangtze"], near_river(2000), river("长江", "mainstem"),
                type="tailings_pond", nature="relocation")
    assert verdicts(moved)["yangtze-3km-tailings-mainstem-ban"] == "forbid"


def test_the_single_definition():
    """Rule format "Nature": `nature: [new]` matches new and relocation, nothing else; a filter
    may opt out with `relocation_as_new: false`."""
    f = ProjectFilter(nature=["new"])
    assert [n for n in NATURES if nature_matches(n, f)] == ["new", "relocation"]
    assert not nature_matches("relocation", ProjectFilter(nature=["new"], relocation_as_new=False))
    assert not nature_matches("rebuild", ProjectFilter(nature=["new", "expansion"]))


NEW_RULES = [r for r in RULESET.rules if r.applies_to.nature and "new" in r.applies_to.nature]


@pytest.mark.parametrize("rule", NEW_RULES, ids=[r.id for r in NEW_RULES])
def test_every_rule_on_new_construction_binds_a_relocation(rule):
    """Every shipped rule on 新建 also binds a relocation (no rule opts out today), and no rule
    file repeats `relocation` beside `new` (the meaning is defined once, in the engine)."""
    assert rule.applies_to.relocation_as_new
    assert nature_matches("relocation", rule.applies_to)
    assert "relocation" not in rule.applies_to.nature
