"""Every shipped rule fires at its trigger and stays silent just outside it.

For each rule a tiny synthetic world is built from the rule itself: one district, one feature
of the rule's layer with the attributes its filter asks for, and a project that meets its
filter. Sites are placed 1 m inside / 1 m outside the trigger (layer accuracy 0, so no
borderline band), and projects of another industry or nature must not trigger it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import LineString, box

from spatial.layers.kinds import KINDS
from spatial.project import NATURES, Project, match, nature_matches
from spatial.ruleset import ProjectFilter, Rule, load_ruleset
from spatial.screening.evaluation import _declaration_refused, screen
from spatial.sites.site import build_site
from tests import synth

RULESET = load_ruleset(Path(__file__).resolve().parents[1] / "rules")
CAT = RULESET.catalogue
FEATURE_X = -15_000.0  # feature centre (m); the test district spans x < 0
HALF = 1_000.0  # feature half-size (m)
EDGE = FEATURE_X + HALF  # east edge of polygon features


def _project(rule: Rule, *, industry: str | None = None, nature: str | None = None,
             want_exception: bool = False) -> Project | None:
    """A project meeting the rule's filter (and no exception unless asked); None if impossible."""
    f = rule.applies_to
    base: dict[str, Any] = {
        "nature": nature or (f.nature[0] if f.nature else "new"),
        "type": f.type[0] if f.type else "project",
        "activity": [f.activity[0]] if f.activity else [],
        "flags": [f.flags[0]] if f.flags else [],
    }
    candidates = [industry] if industry else ["K7010", *CAT.codes]
    for code in candidates:
        p = Project.from_dict({**base, "industry": code}, CAT)
        if match(f, p, CAT) is not True:
            continue
        hits_exception = any(match(e.when, p, CAT) for e in rule.exceptions)
        if hits_exception == want_exception:
            return p
    return None


def _exception_project(rule: Rule, exc_index: int) -> Project | None:
    f, w = rule.applies_to, rule.exceptions[exc_index].when
    base = {
        "nature": (w.nature or f.nature or ["new"])[0],
        "type": (w.type or f.type or ["project"])[0],
        "activity": [(w.activity or f.activity)[0]] if (w.activity or f.activity) else [],
        "flags": list({*(w.flags or [])[:1], *(f.flags or [])[:1]}),
    }
    for code in ["K7010", *CAT.codes]:
        p = Project.from_dict({**base, "industry": code}, CAT)
        if (match(f, p, CAT) is True and match(w, p, CAT) is True
                and _declaration_refused(w.activity, p, RULESET) is None):
            return p  # a declared activity must fit the project (rules/activities.yaml)
    return None


def _attrs(kind: str, flt: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in KINDS[kind].attributes:
        if a.name in flt:
            v = flt[a.name]
            out[a.name] = v[0] if isinstance(v, list) else v
        elif a.type is bool:
            out[a.name] = False
        elif a.domain:
            out[a.name] = a.domain[0]
        else:
            out[a.name] = f"测试{a.name}"
    return out


def _world(rule: Rule):
    w = rule.where
    adcode = (w.districts or w.adcodes or ["500106"])[0]
    layers = [synth.district_layer(adcode)]
    if w.layer:
        geom = (LineString([(FEATURE_X, -5_000), (FEATURE_X, 5_000)]) if w.layer == "river"
                else synth.square(FEATURE_X, 0, HALF))
        # a river drawn as its bank: thresholds are exact here (centrelines, whose bank may
        # be nearer, are tested in tests/legal/test_p11_bank_distance.py)
        role = "shoreline" if w.layer == "river" else None
        layers.append(synth.layer(w.layer, [(geom, _attrs(w.layer, w.filter))],
                                  geometry_role=role))
    if w.minus:
        layers.append(synth.layer(w.minus.layer, [(synth.square(FEATURE_X, 20_000, 100),
                                                   _attrs(w.minus.layer, w.minus.filter))]))
    return synth.layerset(*layers)


def _sites(rule: Rule):
    """(site that triggers, site 1 m outside the trigger), in metres."""
    w = rule.where
    edge = FEATURE_X if w.layer == "river" else EDGE
    if w.predicate == "within_distance":
        d = w.distance_m
        return box(edge + d - 1, -50, edge + d + 99, 50), box(edge + d + 1, -50, edge + d + 101, 50)
    if w.predicate == "intersects":
        half = max(100.0, ((w.min_overlap_m2 or 0) ** 0.5) / 2 + 10)
        return (synth.square(FEATURE_X, 0, half),
                box(edge + 1, -100, edge + 201, 100))
    if w.predicate == "outside":
        return box(EDGE - 199, -100, EDGE + 1, 100), synth.square(FEATURE_X, 0, 100)
    if w.predicate == "inside_district":
        return synth.square(FEATURE_X, 0, 100), box(1, -50, 101, 50)
    raise AssertionError(w.predicate)


def _run(rule: Rule, site_m, project: Project) -> dict[str, Any]:
    site = build_site(synth.ll(site_m))
    return screen(site, project, _world(rule), dataclasses.replace(RULESET, rules=(rule,))).as_doc()


def _finding(doc: dict[str, Any], rule: Rule) -> dict[str, Any] | None:
    return next((f for f in doc["findings"] if f["rule_id"] == rule.id), None)


# raster rules have their own fire / 1-cell-outside tests in tests/test_raster.py
SPATIAL = [r for r in RULESET.rules if r.where.predicate not in ("anywhere", "raster_share")]


def test_every_family_in_design_is_encoded():
    """DESIGN §4 lists these families; each has at least one rule."""
    families = {r.family for r in RULESET.rules}
    for fam in ["redline", "general_eco_space", "nature_reserve", "water_source", "yangtze",
                "jialing", "four_mountains", "parks", "shapingba", "heavy_metal", "air",
                "control_unit", "geohazard", "farmland", "wetland", "industry_only", "raster"]:
        assert fam in families, fam


@pytest.mark.parametrize("rule", SPATIAL, ids=[r.id for r in SPATIAL])
def test_rule_fires_at_trigger(rule: Rule):
    project = _project(rule)
    assert project is not None, "no project can meet this rule's filter"
    fired, _ = _sites(rule)
    f = _finding(_run(rule, fired, project), rule)
    assert f is not None and f["verdict"] == rule.verdict and not f["borderline"]
    assert f["basis"]["quote"]


@pytest.mark.parametrize("rule", SPATIAL, ids=[r.id for r in SPATIAL])
def test_rule_silent_1m_outside_trigger(rule: Rule):
    project = _project(rule)
    assert project is not None
    _, outside = _sites(rule)
    doc = _run(rule, outside, project)
    assert _finding(doc, rule) is None
    assert doc["verdict"] == "pass"


def _some_nature_excluded(f: ProjectFilter) -> bool:
    # a relocation is new construction (spatial.project.nature_matches): [new, expansion,
    # rebuild] covers every nature
    return f.nature is not None and not all(nature_matches(n, f) for n in NATURES)


FILTERED = [r for r in RULESET.rules if r.where.predicate != "raster_share" and (
    r.applies_to.industries is not None or _some_nature_excluded(r.applies_to))]


@pytest.mark.parametrize("rule", FILTERED, ids=[r.id for r in FILTERED])
def test_rule_silent_for_other_industry_or_nature(rule: Rule):
    f = rule.applies_to
    other = None
    if f.industries is not None:
        for code in CAT.codes:
            p = _project(rule, industry=None)
            assert p is not None
            q = dataclasses.replace(p, industry=CAT.resolve(code))
            if match(f, q, CAT) is False:
                other = q
                break
    elif _some_nature_excluded(f):
        p = _project(rule)
        assert p is not None
        other = dataclasses.replace(p, nature=next(n for n in NATURES
                                                   if not nature_matches(n, f)))
    assert other is not None
    fired = _sites(rule)[0] if rule.where.predicate != "anywhere" else synth.square(-15_000, 0, 100)
    assert _finding(_run(rule, fired, other), rule) is None


ANYWHERE = [r for r in RULESET.rules if r.where.predicate == "anywhere"]


@pytest.mark.parametrize("rule", ANYWHERE, ids=[r.id for r in ANYWHERE])
def test_industry_only_rule_fires_for_its_industry(rule: Rule):
    project = _project(rule)
    assert project is not None
    f = _finding(_run(rule, synth.square(-15_000, 0, 100), project), rule)
    assert f is not None and f["verdict"] == rule.verdict


WITH_EXC = [(r, i) for r in RULESET.rules for i in range(len(r.exceptions))]


@pytest.mark.parametrize(("rule", "i"), WITH_EXC, ids=[f"{r.id}#{i}" for r, i in WITH_EXC])
def test_exception_downgrades_verdict(rule: Rule, i: int):
    project = _exception_project(rule, i)
    assert project is not None, "no project can meet the exception"
    site = _sites(rule)[0] if rule.where.predicate != "anywhere" else synth.square(-15_000, 0, 100)
    f = _finding(_run(rule, site, project), rule)
    assert f is not None
    # the first matching exception wins; it may be an earlier one
    first = next(e for e in rule.exceptions if match(e.when, project, CAT))
    assert f["verdict"] == first.verdict and f["exception"]["note_zh"] == first.note_zh
