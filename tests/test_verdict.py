"""Verdict composition (DESIGN §4): severity order, indeterminate, borderline, exceptions."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import LineString, box

from spatial.project import Project
from spatial.ruleset import Rule, load_ruleset
from spatial.screening.evaluation import compose, screen
from spatial.sites.site import build_site
from spatial.verdict import Finding, Gap
from tests import synth

BASE = load_ruleset(Path(__file__).resolve().parents[1] / "rules")
BASIS = {"document": "测试文件", "clause": "第一条", "quote": "测试引文", "source": "law"}


def rule(rid: str, where: dict[str, Any], verdict: str = "forbid", **extra: Any) -> Rule:
    return Rule.model_validate({
        "id": rid, "family": "test", "title_zh": rid, "title_en": rid, "basis": BASIS,
        "where": where, "verdict": verdict, "message_zh": "测试", **extra})


def run(rules: list[Rule], site_m, *layers, project: dict[str, Any] | None = None,
        accuracy_m: float = 0.0) -> dict[str, Any]:
    rs = dataclasses.replace(BASE, rules=tuple(rules))
    proj = Project.from_dict(project if project is not None
                             else {"industry": "K7010", "nature": "new"}, BASE.catalogue)
    site = build_site(synth.ll(site_m), accuracy_m=accuracy_m)
    return screen(site, proj, synth.layerset(synth.district_layer(), *layers), rs).as_doc()


RED = rule("red", {"predicate": "intersects", "layer": "eco_redline"})
NEAR_RIVER = rule("river-1km", {"predicate": "within_distance", "layer": "river",
                                "distance_m": 1000})


def redline(acc: float = 0.0):
    return synth.layer("eco_redline", [(synth.square(-15_000, 0, 1000), {"name": "红线", "code": "X"})],
                       accuracy_m=acc)


def river(acc: float = 0.0):
    # drawn as its bank (measured as drawn; centrelines are tested in tests/legal/test_p11_…)
    return synth.layer("river", [(LineString([(-15_000, -5000), (-15_000, 5000)]),
                                  {"name": "嘉陵江", "class": "important_tributary"})], accuracy_m=acc,
                       geometry_role="shoreline")


@pytest.mark.parametrize(("verdicts", "gaps", "expected"), [
    ([], False, "pass"),
    (["advisory"], False, "pass"),
    (["restrict", "advisory"], False, "restrict"),
    (["forbid", "restrict"], False, "forbid"),
    (["restrict"], True, "indeterminate"),
    (["forbid"], True, "forbid"),
])
def test_compose_order(verdicts, gaps, expected):
    """forbid > restrict > pass; gaps → indeterminate unless a certain forbid applies."""
    findings = [_finding(v) for v in verdicts]
    assert compose(findings, [GAP] if gaps else []) == expected


def test_borderline_forbid_does_not_override_a_gap():
    """A forbid within data uncertainty is not certain: a gap still makes it indeterminate."""
    assert compose([_finding("forbid", borderline=True)], [GAP]) == "indeterminate"
    assert compose([_finding("forbid", borderline=True)], []) == "forbid"


GAP = Gap(rule_id="r", code="layer_missing", reason="缺", reason_en="missing")


def _finding(verdict, borderline=False):
    return Finding(rule_id="r", verdict=verdict, verdict_zh=verdict, family="test", title_zh="t",
                   borderline=borderline)


def test_overlap_reports_geodesic_area_and_share():
    """A 200 m square half inside the red line overlaps 20 000 m², share 0.5."""
    doc = run([RED], box(-14_100, -100, -13_900, 100), redline())
    f = doc["findings"][0]
    assert doc["verdict"] == "forbid"
    assert f["measure"]["overlap_m2"] == pytest.approx(20_000, rel=1e-3)
    assert f["measure"]["overlap_share"] == pytest.approx(0.5, abs=1e-3)
    assert f["feature"]["name"] == "红线"


def test_near_miss_within_accuracy_is_borderline_restrict_not_pass():
    """30 m outside a red line known to ±50 m: borderline, at least restrict, manual check."""
    doc = run([RED], box(-13_970, -50, -13_870, 50), redline(acc=50))
    f = doc["findings"][0]
    assert doc["verdict"] == "restrict"
    assert f["borderline"] and not f["triggered"]
    assert f["measure"]["distance_m"] == pytest.approx(30, abs=0.5)
    assert any("人工核查" in r for r in f["requirements_zh"])


def test_marginal_overlap_within_accuracy_is_flagged():
    """Overlapping the red line by 10 m when it is known to ±50 m: forbid, flagged borderline."""
    doc = run([RED], box(-14_010, -50, -13_910, 50), redline(acc=50))
    assert doc["verdict"] == "forbid" and doc["findings"][0]["borderline"]


def test_concave_site_whose_centre_is_deep_inside_but_its_overlap_is_not_is_borderline():
    """A C-shaped site around the red line: its centroid lies 189 m inside, but the site
    itself only reaches 10 m in (its arms run along two edges) against ±50 m accuracy."""
    site = shapely.union_all([box(-16_100, -1_200, -13_900, -1_100),  # the bar, outside
                              box(-16_100, -1_200, -15_990, 100),     # left arm, 10 m in
                              box(-14_010, -1_200, -13_900, 100)])    # right arm, 10 m in
    assert synth.square(-15_000, 0, 1000).contains(site.centroid)
    doc = run([RED], site, redline(acc=50))
    assert doc["verdict"] == "forbid" and doc["findings"][0]["borderline"]


def test_a_site_on_a_line_feature_never_reaches_into_it():
    """A line has no inside: a site vertex lying exactly on a river centreline's vertex is
    no witness (shrinking the line leaves nothing), and a corridor's witnesses are capped."""
    from spatial.screening.context import WITNESS_VERTICES, Context
    from spatial.screening.predicates.overlap import reaches_inside

    site = build_site(synth.ll(box(-15_050, -50, -14_950, 50)))
    vx, vy = shapely.get_coordinates(site.footprint)[0]
    line = shapely.LineString([(vx, vy - 0.05), (vx, vy), (vx + 0.05, vy)])
    world = synth.layerset(synth.district_layer())
    ctx = Context.create(site, world)
    assert not reaches_inside(ctx, line, 10.0)
    corridor = build_site(synth.ll(LineString([(-15_000 + 10 * k, (k % 2) * 5.0)
                                               for k in range(400)])))
    assert len(Context.create(corridor, world).witness_xy) <= WITNESS_VERTICES + 1


def test_deep_overlap_is_not_borderline():
    doc = run([RED], synth.square(-15_000, 0, 100), redline(acc=50))
    assert doc["verdict"] == "forbid" and not doc["findings"][0]["borderline"]


@pytest.mark.parametrize(("gap_m", "verdict", "triggered"), [
    (980, "forbid", True), (1020, "restrict", False), (1100, "pass", None)])
def test_distance_threshold_with_river_accuracy(gap_m, verdict, triggered):
    """River known to ±50 m, 1 km rule: 980 m forbid (borderline), 1020 m restrict, 1100 m pass."""
    doc = run([NEAR_RIVER], box(-15_000 + gap_m, -50, -14_900 + gap_m, 50), river(acc=50))
    assert doc["verdict"] == verdict
    if triggered is not None:
        f = doc["findings"][0]
        assert f["borderline"] and f["triggered"] is triggered
        assert f["measure"]["distance_m"] == pytest.approx(gap_m, abs=0.5)
        assert f["measure"]["threshold_m"] == 1000


def test_site_accuracy_widens_the_borderline_band():
    """1100 m from a river known exactly, but the site is only known to ±150 m: borderline."""
    doc = run([NEAR_RIVER], box(-13_900, -50, -13_800, 50), river(), accuracy_m=150)
    assert doc["verdict"] == "restrict" and doc["findings"][0]["borderline"]


def test_missing_industry_when_rule_fires_is_indeterminate():
    chem = rule("chem", {"predicate": "within_distance", "layer": "river", "distance_m": 1000},
                applies_to={"industries": ["chemical"]})
    doc = run([chem], synth.square(-14_500, 0, 50), river(), project={"nature": "new"})
    assert doc["verdict"] == "indeterminate"
    assert doc["not_evaluated"][0]["code"] == "attribute_missing"
    assert doc["not_evaluated"][0]["missing"] == ["industry"]


def test_missing_industry_is_irrelevant_when_trigger_absent():
    chem = rule("chem", {"predicate": "within_distance", "layer": "river", "distance_m": 1000},
                applies_to={"industries": ["chemical"]})
    doc = run([chem], synth.square(-10_000, 0, 50), river(), project={"nature": "new"})
    assert doc["verdict"] == "pass"


def test_missing_layer_is_indeterminate_not_pass():
    doc = run([RED], synth.square(-15_000, 0, 50))
    assert doc["verdict"] == "indeterminate"
    assert doc["not_evaluated"][0] == {**doc["not_evaluated"][0], "rule_id": "red",
                                       "code": "layer_missing"}


def test_site_outside_coverage_is_indeterminate_but_certain_forbid_stays():
    """Straddling the coverage edge (x = 30 km): indeterminate; inside red line too: forbid."""
    straddle = box(29_900, -50, 30_100, 50)
    assert run([RED], straddle, redline())["verdict"] == "indeterminate"
    far_red = synth.layer("eco_redline", [(synth.square(30_000, 0, 500), {"name": "", "code": ""})])
    doc = run([RED], straddle, far_red)
    assert doc["verdict"] == "forbid"
    assert doc["not_evaluated"][0]["code"] == "outside_coverage"


def test_layer_incomplete_at_site_is_indeterminate():
    """A red-line layer that only claims the western 10 km cannot clear a site east of that."""
    partial = synth.layer("eco_redline", [(synth.square(-25_000, 0, 500), {"name": "", "code": ""})],
                          coverage=box(-30_000, -30_000, -20_000, 30_000))
    assert run([RED], synth.square(-5_000, 0, 50), partial)["verdict"] == "indeterminate"
    assert run([RED], synth.square(-24_000, 0, 50), partial)["verdict"] == "pass"


def test_advisory_never_changes_verdict():
    adv = rule("adv", {"predicate": "anywhere"}, verdict="advisory")
    doc = run([adv], synth.square(-5_000, 0, 50))
    assert doc["verdict"] == "pass" and doc["findings"][0]["verdict"] == "advisory"


def test_exception_downgrades_to_restrict_with_requirements():
    r = rule("red-exc", {"predicate": "intersects", "layer": "eco_redline"}, exceptions=[
        {"when": {"flags": ["national_major"]}, "verdict": "restrict", "note_zh": "国家重大项目",
         "requirements_zh": ["报国务院批准"]}])
    doc = run([r], synth.square(-15_000, 0, 50), redline(),
              project={"industry": "E4812", "nature": "new", "flags": ["national_major"]})
    f = doc["findings"][0]
    assert doc["verdict"] == "restrict" and f["requirements_zh"][0] == "报国务院批准"


def test_scope_districts_limit_a_rule():
    scoped = rule("scoped", {"predicate": "intersects", "layer": "eco_redline",
                             "districts": ["500107"]})
    assert run([scoped], synth.square(-15_000, 0, 50), redline())["verdict"] == "pass"


def test_scoped_rule_judges_only_the_part_inside_its_districts():
    """A two-part site: the part in 500106 is far from the river, the part next door is close.

    A rule scoped to 500106 must not fire because of the part in the neighbouring district.
    """
    scoped = rule("scoped-river", {"predicate": "within_distance", "layer": "river",
                                   "distance_m": 1000, "districts": ["500106"]})
    near_river = synth.layer("river", [(LineString([(2_000, -5000), (2_000, 5000)]),
                                        {"name": "嘉陵江", "class": "important_tributary"})],
                             geometry_role="shoreline")
    from shapely.geometry import MultiPolygon
    two_parts = MultiPolygon([synth.square(-15_000, 0, 50), synth.square(1_500, 0, 50)])
    assert run([scoped], two_parts, near_river)["verdict"] == "pass"
    unscoped = rule("river", {"predicate": "within_distance", "layer": "river", "distance_m": 1000})
    assert run([unscoped], two_parts, near_river)["verdict"] == "forbid"
