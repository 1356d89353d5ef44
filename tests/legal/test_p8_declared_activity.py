"""P8: a declared 自然资发〔2022〕142号 activity downgrades the red-line ban only when the project's
industry and type can be that activity (rules/activities.yaml); otherwise forbid, with a note."""

from __future__ import annotations

import pytest

from tests.legal.world import INSIDE, RULESET, finding, run, verdicts, zone

REDLINE = zone("eco_redline", name="测试红线", code="X")
RED = "redline-no-development"


@pytest.mark.parametrize(("industry", "activity"), [
    ("K7010", "geological_survey"),       # 房地产开发 is no geological survey
    ("K7010", "other_lawful"),            # nor an "other lawful activity"
    ("C2614", "linear_infrastructure"),   # a chemical plant is no linear infrastructure
    ("H6110", "eco_tourism"),             # a hotel is not a necessary public facility
])
def test_implausible_declaration_keeps_the_red_line_ban(industry, activity):
    """自然资发〔2022〕142号 一、(禁止开发性、生产性建设活动，仅允许……有限人为活动): a declaration that
    does not fit the project is not accepted → forbid, and the finding says why."""
    doc = run(["redline"], INSIDE, REDLINE, industry=industry, nature="new", activity=[activity])
    f = finding(doc, RED)
    assert f is not None and f["verdict"] == "forbid" and f["exception"] is None
    assert f["exception_refused_zh"] and "未予采纳" in f["exception_refused_zh"][0]
    assert any("未予采纳" in r for r in f["requirements_zh"])
    assert doc["verdict"] == "forbid"


def test_declared_activity_without_industry_code_is_not_accepted():
    """同上: without an industry code the declaration cannot be checked → forbid with a note."""
    doc = run(["redline"], INSIDE, REDLINE, nature="new", activity=["geological_survey"])
    f = finding(doc, RED)
    assert f is not None and f["verdict"] == "forbid"
    assert "未提供行业代码" in f["exception_refused_zh"][0]


def test_park_declared_as_other_lawful_is_not_accepted():
    """同上: a chemical park cannot be a limited human activity → forbid."""
    doc = run(["redline"], INSIDE, REDLINE, type="chemical_park", nature="new",
              activity=["other_lawful"])
    assert verdicts(doc)[RED] == "forbid"


@pytest.mark.parametrize(("industry", "activity"), [
    ("M7471", "geological_survey"),      # 能源矿产地质勘查
    ("G5720", "linear_infrastructure"),  # 陆地管道运输
    ("D4420", "linear_infrastructure"),  # 电力供应 (power line)
    ("N7712", "eco_restoration"),        # 生态保护 (N771)
    ("A0231", "forest_tending"),         # 森林经营和管护
])
def test_plausible_declaration_downgrades_to_restrict(industry, activity):
    """自然资发〔2022〕142号 一、: a fitting declaration → restrict with the notice's requirements."""
    doc = run(["redline"], INSIDE, REDLINE, industry=industry, nature="new", activity=[activity])
    f = finding(doc, RED)
    assert f is not None and f["verdict"] == "restrict" and f["exception"]
    assert not f["exception_refused_zh"]


def test_national_major_flag_is_not_affected_by_the_activity_table():
    """自然资发〔2022〕142号 (国家重大项目 报国务院批准): the flag exception stands on its own → restrict."""
    doc = run(["redline"], INSIDE, REDLINE, industry="K7010", nature="new",
              flags=["national_major"], activity=["geological_survey"])
    assert verdicts(doc)[RED] == "restrict"


def test_declaration_check_applies_to_other_rules_exceptions_too():
    """水污染防治法 第六十五条: housing declared as eco_restoration in a level-1 water-source zone is
    not accepted → forbid (the engine checks every activity exception, not only the red line)."""
    l1 = zone("water_source", name="测试水源", zone="level1")
    doc = run(["water_source"], INSIDE, l1, industry="K7010", nature="new",
              activity=["eco_restoration"])
    assert verdicts(doc)["water-source-level1-no-unrelated-construction"] == "forbid"


def test_every_activity_has_a_plausibility_entry():
    """Rule format "Declared activities": the table covers every activity code."""
    from spatial.project import ACTIVITIES
    assert set(RULESET.activities) == set(ACTIVITIES)
