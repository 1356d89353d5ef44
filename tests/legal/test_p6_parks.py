"""P6: bans on enterprises also bind the parks planned for them (docs/rule-format.md "Parks and
tailings ponds": a rule naming a park type in `applies_to.type` binds that park whatever its
industry list)."""

from __future__ import annotations

import pytest

from spatial.project import Project, match
from tests import synth
from tests.legal.world import CAT, INSIDE, RULESET, finding, run, verdicts, zone

PARK_TYPES = ("industrial_park", "chemical_park", "tailings_pond")


def test_new_chemical_park_in_shapingba_is_forbidden():
    """沙坪坝区规划(征求意见稿) 第五章 第一节 (全区禁止新建……化工企业): a new chemical park in
    沙坪坝 → forbid (shapingba-no-new-chemical-park, interpretation shown)."""
    doc = run(["shapingba"], INSIDE, type="chemical_park", nature="new")
    assert verdicts(doc) == {"shapingba-no-new-chemical-park": "forbid"}
    f = finding(doc, "shapingba-no-new-chemical-park")
    assert f is not None and f["interpretation_zh"]


def test_relocated_chemical_park_into_shapingba_is_forbidden():
    """同上, with P1: a chemical park relocated into 沙坪坝 is new there → forbid."""
    doc = run(["shapingba"], INSIDE, type="chemical_park", nature="relocation")
    assert verdicts(doc)["shapingba-no-new-chemical-park"] == "forbid"


def test_general_industrial_park_or_other_district_is_silent():
    """同上: the ban is on chemical enterprises in 沙坪坝 — a general industrial park there, or a
    chemical park in the neighbouring district (500107), is not hit."""
    doc = run(["shapingba"], INSIDE, type="industrial_park", nature="new")
    assert finding(doc, "shapingba-no-new-chemical-park") is None
    east = synth.square(15_000, 0, 100)
    doc = run(["shapingba"], east, type="chemical_park", nature="new")
    assert doc["verdict"] == "pass" and not doc["findings"]


def test_industrial_park_in_nature_reserve_experimental_zone_is_forbidden():
    """自然保护区条例 第三十二条 (实验区内不得建设污染环境、破坏资源或者景观的生产设施): an industrial
    park (no industry code) → forbid, as its industrial tenants would be."""
    exp = zone("protected_area", name="测试保护区", category="nature_reserve",
               level="municipal", zone="experimental")
    doc = run(["nature_reserve"], INSIDE, exp, type="industrial_park", nature="new")
    assert verdicts(doc)["nature-reserve-experimental-no-polluting-facility"] == "forbid"


def test_industrial_park_in_four_mountains_is_restricted():
    """沙坪坝区规划 第四章 第一节 (严控“四山”建设工业企业): an industrial park in a 四山 zone of
    沙坪坝 → restrict (four-mountains-shapingba-industrial)."""
    fm = zone("four_mountains", mountain="中梁山", zone="general_control")
    doc = run(["four_mountains"], INSIDE, fm, type="industrial_park", nature="new")
    assert verdicts(doc)["four-mountains-shapingba-industrial"] == "restrict"


PARK_RULES = [(r, t) for r in RULESET.rules for t in (r.applies_to.type or [])
              if t in PARK_TYPES and r.applies_to.industries is not None]


@pytest.mark.parametrize(("rule", "ptype"), PARK_RULES,
                         ids=[f"{r.id}-{t}" for r, t in PARK_RULES])
def test_rules_naming_a_park_type_bind_that_park_without_an_industry(rule, ptype):
    """Rule format "Parks and tailings ponds": a rule whose `type` names a park type binds such a
    park given without an industry code (its industry list does not spare it)."""
    nature = (rule.applies_to.nature or ["new"])[0]
    flags = (rule.applies_to.flags or [])[:1]
    p = Project.from_dict({"type": ptype, "nature": nature, "flags": flags}, CAT)
    assert match(rule.applies_to, p, CAT) is True


def test_a_project_only_rule_does_not_bind_a_park():
    """Rule format: `type: [project]` rules (e.g. parks-new-industrial-outside-park: 禁止在工业园区
    外新建工业项目) do not concern a park proposal."""
    rule = next(r for r in RULESET.rules if r.id == "parks-new-industrial-outside-park")
    assert rule is not None
    p = Project.from_dict({"type": "industrial_park", "nature": "new"}, CAT)
    assert match(rule.applies_to, p, CAT) is False
