"""Rule evaluation and verdict composition (DESIGN §4): site + project + layers → verdict.

Overall verdict: a certain ``forbid`` wins; otherwise anything that could not be evaluated
makes the result ``indeterminate`` (never a false ``pass``); otherwise the most severe of
forbid > restrict > pass. Advisory findings never change the overall verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import shapely

from spatial import __version__
from spatial.geodesy import geodesic_area
from spatial.identity import IdentityCache
from spatial.layers.layerset import IndexedLayer, LayerSet, RasterLayer
from spatial.project import Project, activity_fits, match, missing_attributes
from spatial.ruleset import Rule, RuleSet
from spatial.screening.context import Context, MissingLayer
from spatial.screening.lookup import SiteLookup
from spatial.screening.nearest import nearest_constraints
from spatial.screening.predicates import Outcome, evaluate, quiet
from spatial.screening.unitlists import UnitResult, screen_units
from spatial.sites.site import Site
from spatial.verdict import (
    VERDICT_ZH,
    ExceptionNote,
    Finding,
    Gap,
    GapCode,
    LayerRef,
    Nearest,
    Verdict,
    VerdictName,
)

_SEVERITY = {"forbid": 0, "restrict": 1, "advisory": 2}
MANUAL_CHECK_ZH = "测算结果处于数据位置精度范围内，须人工核查场址与该图层边界的关系"
_ATTR_ZH = {"industry": "行业代码", "nature": "建设性质",
            "industry_detail": "更细的行业代码(所给门类/大类代码无法判断是否属于规则所列行业，"
                               "请提供4位小类代码)"}


def screen(site: Site, project: Project, layers: LayerSet, ruleset: RuleSet,
           lookup: SiteLookup | None = None) -> Verdict:
    """Screen a site: the verdict (its document, ``as_doc``, has no id, time or links yet).

    ``lookup`` answers the index questions about the site's footprint (spatial.screening.lookup);
    by default they are asked as they come.
    """
    gaps: list[Gap] = []
    inside = site if lookup is not None and lookup.inside_coverage() else \
        _inside_coverage(site, layers, gaps)
    findings: list[Finding] = []
    districts: list[dict[str, Any]] = []
    nearest: list[Nearest] = []
    units = UnitResult([], [], [], [])
    if inside is not None:
        # Rules are judged on the part of the site the dataset covers; the rest is a gap.
        # the lookup's answers are about the whole site's footprint
        ctx = Context.create(inside, layers, lookup if inside is site else None)
        districts = _districts(ctx)
        for rule, applies in _relevant(project, ruleset):
            fnd = _evaluate_rule(rule, applies, ctx, project, ruleset, districts, gaps)
            if fnd is not None:
                findings.append(fnd)
        units = screen_units(ctx, project, ruleset)
        findings.extend(units.findings)
        gaps.extend(units.gaps)
        nearest = nearest_constraints(ctx)
    findings.sort(key=lambda f: _SEVERITY[f.verdict])
    verdict = compose(findings, gaps)
    site_doc = site.as_dict()
    site_doc["districts"] = [{"adcode": d["adcode"], "name": d["name"]} for d in districts]
    return Verdict(
        verdict=verdict,
        verdict_zh=VERDICT_ZH[verdict],
        summary_zh=summarise(verdict, findings, gaps),
        site=site_doc,
        project=project.as_dict(),
        findings=findings,
        not_evaluated=gaps,
        control_units=units.units,
        checklist=units.checklist,
        nearest=nearest,
        layers=layers.public(),
        rules_version=ruleset.sha256,
        engine_version=__version__,
    )


def compose(findings: Sequence[Finding], gaps: Sequence[Gap]) -> VerdictName:
    """Overall verdict from findings and evaluation gaps (DESIGN §4)."""
    binding = [f for f in findings if f.verdict != "advisory"]
    if any(f.verdict == "forbid" and not f.borderline for f in binding):
        return "forbid"
    if gaps:
        return "indeterminate"
    if any(f.verdict == "forbid" for f in binding):
        return "forbid"
    if binding:
        return "restrict"
    return "pass"


def summarise(verdict: str, findings: Sequence[Finding], gaps: Sequence[Gap]) -> str:
    """One-paragraph Chinese summary of the verdict."""
    by = {v: [f.title_zh for f in findings if f.verdict == v] for v in _SEVERITY}

    def listing(items: list[str]) -> str:
        return "；".join(items[:3]) + ("等" if len(items) > 3 else "")

    parts = [f"{VERDICT_ZH[verdict]}。"]
    if by["forbid"]:
        parts.append(f"触发 {len(by['forbid'])} 条禁止性规则：{listing(by['forbid'])}。")
    if by["restrict"]:
        parts.append(f"{len(by['restrict'])} 条限制性要求需落实：{listing(by['restrict'])}。")
    if gaps:
        parts.append(f"{len(gaps)} 项无法评估：{listing([g.reason for g in gaps])}。")
    if verdict == "pass":
        parts.append("未触发任何禁止或限制性规则。")
    if by["advisory"]:
        parts.append(f"另有 {len(by['advisory'])} 条提示。")
    parts.append("本结果为选址初筛参考，不替代法定审批。")
    return "".join(parts)


def _inside_coverage(site: Site, layers: LayerSet, gaps: list[Gap]) -> Site | None:
    """The part of the site inside the dataset coverage (None if nothing), recording gaps."""
    cov = layers.coverage
    if cov is None:
        refused = layers.refused.get("admin_district")  # its file failed verification
        gaps.append(_gap(None, "layer_tampered", refused.message_zh, refused.message_en)
                    if refused is not None else
                    _gap(None, "layer_missing", "缺少行政区图层，无法确定数据覆盖范围",
                         "No admin_district layer: dataset coverage unknown"))
        return None
    if shapely.covers(cov, site.footprint):
        return site
    part = shapely.intersection(site.footprint, cov)
    inside = geodesic_area(part)
    share = 1 - inside / site.area_m2 if site.area_m2 else 1.0
    gaps.append(_gap(None, "outside_coverage",
                     f"场址有 {share:.1%} 位于数据覆盖范围(重庆市行政区域)之外，该部分无法判定",
                     f"{share:.1%} of the site lies outside the dataset coverage (Chongqing)"))
    polys = [g for g in shapely.get_parts(part) if g.geom_type == "Polygon"]
    if inside <= 0 or not polys:
        return None
    return dataclasses.replace(site, footprint=shapely.union_all(polys))


def _districts(ctx: Context) -> list[dict[str, Any]]:
    admin = ctx.layers.layers["admin_district"]
    site_ll = ctx.site.footprint
    out = []
    for i in ctx.candidates(admin, site_ll, {}):
        if shapely.contains_properly(admin.geoms[i], site_ll):  # prepared: the common case
            area = ctx.site_area_m2
        else:
            area = geodesic_area(shapely.intersection(site_ll, admin.geoms[i]))
        if area > 0:
            out.append({"adcode": admin.attrs[i]["adcode"], "name": admin.attrs[i]["name"],
                        "overlap_m2": area})
    return sorted(out, key=lambda d: -d["overlap_m2"])


_RELEVANT: IdentityCache[tuple[tuple[Rule, bool | None], ...]] = IdentityCache(4096)


def _relevant(project: Project, ruleset: RuleSet) -> tuple[tuple[Rule, bool | None], ...]:
    """The rules that may concern the project, in rule-set order, each with
    ``match(rule.applies_to, project)`` (None: the project does not say); cached per rule set
    object and project attributes, as a batch of parcels usually shares a handful of projects.
    Left out: rules that do not apply, and advisories whose applicability is unknown."""
    ind = project.industry
    key = (ind.code if ind else None, ind.categories if ind else None,
           project.nature, project.type, project.activity, project.flags)
    hit = _RELEVANT.get(ruleset, key)
    if hit is not None:
        return hit[0]
    pairs = ((r, match(r.applies_to, project, ruleset.catalogue)) for r in ruleset.rules)
    return _RELEVANT.put(ruleset, tuple(
        (r, a) for r, a in pairs if a is True or (a is None and r.verdict != "advisory")), key)


def rules_for(projects: Iterable[Project], ruleset: RuleSet) -> tuple[Rule, ...]:
    """The rules that may concern any of ``projects`` (those ``screen`` evaluates for them),
    in rule-set order: what a batch asks the layers about in bulk."""
    wanted = {id(r) for p in projects for r, _ in _relevant(p, ruleset)}
    return tuple(r for r in ruleset.rules if id(r) in wanted)


def _evaluate_rule(rule: Rule, applies: bool | None, ctx: Context, project: Project,
                   ruleset: RuleSet, districts: list[dict[str, Any]], gaps: list[Gap]
                   ) -> Finding | None:
    """A rule's finding for a site (None: none), recording what cannot be evaluated in
    ``gaps``; ``applies`` is True, or None when the project does not say."""
    if rule.where.districts:
        if not any(d["adcode"] in rule.where.districts for d in districts):
            return None
        ctx = _scoped(ctx, tuple(rule.where.districts))  # judge only the part in those districts
    excluded = PLAN_EXCLUSIONS.get(rule.basis.source or "")
    if excluded is not None and excluded != rule.where.layer:
        scoped = _minus_scoped(ctx, excluded)  # the plan does not govern there
        if scoped is None:
            return None
        ctx = scoped
    lacking = _classes_missing(rule, ctx.layers) if rule.verdict != "advisory" else None
    if lacking is not None and lacking[1]:  # the layer holds none of the classes asked for
        gaps.append(_class_missing_gap(rule.id, *lacking))
        return None
    if lacking is not None:  # it holds some: a finding on those stands; no finding is a gap
        scratch: list[Gap] = []
        fnd = _evaluate_rule_held(rule, applies, ctx, project, ruleset, districts, scratch)
        gaps.extend(scratch)
        if (fnd is None or not fnd.triggered) and not scratch:
            gaps.append(_class_missing_gap(rule.id, *lacking))
        return fnd
    return _evaluate_rule_held(rule, applies, ctx, project, ruleset, districts, gaps)


def _evaluate_rule_held(rule: Rule, applies: bool | None, ctx: Context, project: Project,
                        ruleset: RuleSet, districts: list[dict[str, Any]],
                        gaps: list[Gap]) -> Finding | None:
    """``_evaluate_rule`` once the rule's district scope and the layer's classes are settled."""
    if ctx.lookup.known_quiet(rule.where):  # nothing near the site: not fired, not borderline
        lay = ctx.layers.layers[rule.where.layer or ""]
        if rule.verdict != "advisory" and not _layer_covers(ctx, lay, rule):
            gaps.append(_incomplete(rule, lay))
        return None
    try:
        # most rules find no feature anywhere near a parcel: that outcome needs no evaluation
        out = quiet(ctx, rule.where) or evaluate(ctx, rule.where)
    except MissingLayer as exc:
        if rule.verdict == "advisory":  # an advisory never changes the verdict: nor its gap
            return None
        refused = ctx.layers.refused.get(exc.kind)  # its file failed verification (layerset)
        if refused is not None:
            gaps.append(_gap(rule.id, "layer_tampered", refused.message_zh, refused.message_en))
            return None
        gaps.append(_gap(rule.id, "layer_missing", f"图层“{exc.kind}”没有启用的版本",
                         f"Layer kind {exc.kind} has no active version"))
        return None
    if out.gap and out.layer is not None:
        if rule.verdict != "advisory":
            gaps.append(_gap(rule.id, "layer_incomplete",
                             f"图层“{out.layer.version.meta.title}”：{out.gap}",
                             f"Layer {out.layer.kind} cannot decide at the site"))
        return None
    # A layer that is incomplete at the site cannot clear it, nor prove an absence.
    decided_by_absence = rule.where.predicate == "outside" and out.fired
    if not (out.fired or out.borderline) or decided_by_absence:
        if (rule.verdict != "advisory" and out.layer is not None
                and not _layer_covers(ctx, out.layer, rule)):
            gaps.append(_incomplete(rule, out.layer))
            return None
        if not decided_by_absence:
            return None
    if applies is None:
        names = missing_attributes(rule.applies_to, project, ruleset.catalogue)
        gaps.append(_gap(rule.id, "attribute_missing",
                         f"规则“{rule.title_zh}”需要项目的{'、'.join(_ATTR_ZH[n] for n in names)}",
                         f"Rule needs project attribute(s): {', '.join(names)}",
                         missing=tuple(names)))
        return None
    return _finding(rule, out, project, ruleset)


def _classes_missing(rule: Rule, layers: LayerSet
                     ) -> tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...], bool] | None:
    """The classes the rule's filter asks for that the active layer version declares but does
    not hold (``SourceMeta.holds``): (kind, title, ((attribute, missing values), ...), whether
    it holds none of the values asked for) — None when nothing asked for is missing."""
    lay = layers.layers.get(rule.where.layer or "")
    holds = lay.version.meta.holds if lay is not None else None
    if not holds or not rule.where.filter:
        return None
    missing: list[tuple[str, tuple[str, ...]]] = []
    held_none = False
    for attr, want in rule.where.filter.items():
        if attr not in holds:
            continue
        values = [str(v) for v in (want if isinstance(want, list | tuple) else [want])]
        lacking = tuple(v for v in values if v not in holds[attr])
        if lacking:
            missing.append((attr, lacking))
            held_none = held_none or len(lacking) == len(values)
    if not missing:
        return None
    return lay.kind, lay.version.meta.title, tuple(missing), held_none  # type: ignore[union-attr]


@lru_cache(maxsize=256)
def _class_missing_gap(rule_id: str, kind: str, title: str,
                       missing: tuple[tuple[str, tuple[str, ...]], ...], _held_none: bool) -> Gap:
    """The gap for a layer that declares it does not hold classes a rule asks for (built once
    per rule and layer version, and shared: gaps are immutable)."""
    what = "；".join(f"{a}={'、'.join(_CLASS_ZH.get(v, v) for v in vs)}" for a, vs in missing)
    return _gap(rule_id, "layer_class_missing",
                f"图层“{title}”(启用版本)声明其不含规则所需的要素类别({what})，"
                f"该规则无法判定，不得视为通过；请导入含该类别要素的图层版本",
                f"Layer {kind} (active version) does not hold the feature class(es) the rule "
                f"needs: " + "; ".join(f"{a}={','.join(vs)}" for a, vs in missing),
                layer=kind, missing_classes=dict(missing))


_CLASS_ZH = {"mainstem": "干流", "important_tributary": "重要支流", "tributary": "其他支流"}


#: plans whose scope leaves out an area, by the rule's ``basis.source``: the layer kind of the
#: area left out. Seed 004 L11: 「规划范围为重庆市沙坪坝区行政区划范围(不含高新区)」, so every
#: rule citing the 沙坪坝 plan is judged on the site minus the 高新区直管园 (and does not apply
#: to a site wholly inside it; rule shapingba-plan-scope-hitech-zone says which plan governs).
#: Without an active hitech_zone version the rules apply to the whole site (never a pass).
PLAN_EXCLUSIONS: dict[str, str] = {"seed:004_a77c72c5942e0eeb.txt": "hitech_zone"}


def _minus_scoped(ctx: Context, kind: str) -> Context | None:
    """A context for the part of the site outside the features of layer ``kind`` (None: the
    site is wholly inside them; ``ctx`` itself when it touches none or the layer is missing);
    cached per screening."""
    key = "minus:" + kind
    if "none:" + key in ctx.scopes:
        return None
    if key in ctx.scopes:
        return ctx.scopes[key]
    lay = ctx.layers.layers.get(kind)
    scoped: Context | None = ctx
    if isinstance(lay, IndexedLayer):
        idx = ctx.candidates(lay, ctx.site.footprint, {})
        if len(idx):
            zone = shapely.union_all(lay.geoms[idx])
            rest = shapely.difference(ctx.site.footprint, zone)
            polys = [g for g in shapely.get_parts(rest) if g.geom_type == "Polygon"
                     and geodesic_area(g) > 0.01]
            scoped = (Context.create(dataclasses.replace(
                ctx.site, footprint=shapely.union_all(polys)), ctx.layers) if polys else None)
    if scoped is None:
        ctx.scopes["none:" + key] = ctx  # nothing of the site is left
        return None
    ctx.scopes[key] = scoped
    return scoped


def _scoped(ctx: Context, adcodes: tuple[str, ...]) -> Context:
    """A context for the part of the site inside the given districts (cached per screening)."""
    key = "scope:" + ",".join(adcodes)
    cached = ctx.scopes.get(key)
    if cached is not None:
        return cached
    admin = ctx.layers.layers["admin_district"]
    idx = ctx.candidates(admin, ctx.site.footprint, {"adcode": list(adcodes)})
    part = shapely.intersection(ctx.site.footprint, shapely.union_all(admin.geoms[idx]))
    polys = [g for g in shapely.get_parts(part) if g.geom_type == "Polygon"]
    if shapely.covers(shapely.union_all(admin.geoms[idx]), ctx.site.footprint) or not polys:
        scoped = ctx
    else:
        scoped = Context.create(dataclasses.replace(ctx.site, footprint=shapely.union_all(polys)),
                                ctx.layers)
    ctx.scopes[key] = scoped
    return scoped


def _incomplete(rule: Rule, lay: IndexedLayer | RasterLayer) -> Gap:
    return _incomplete_gap(rule.id, lay.kind, lay.version.meta.title)


@lru_cache(maxsize=1024)
def _incomplete_gap(rule_id: str, kind: str, title: str) -> Gap:
    """The gap for a layer that does not cover the site (a parcel has a dozen: built once,
    shared, as gaps are immutable)."""
    return _gap(rule_id, "layer_incomplete", f"图层“{title}”在场址处不完整(数据仅覆盖部分区县)",
                f"Layer {kind} does not cover the site")


def _layer_covers(ctx: Context, lay: IndexedLayer | RasterLayer, rule: Rule) -> bool:
    """Whether the layer's data covers the site (and the rule's distance around it); asked
    once per context (the site, or its part in some districts) for each layer and distance,
    however many rules share them."""
    cov = lay.coverage
    if cov is None:
        return True
    key = (lay.kind, rule.where.distance_m)
    covered = ctx.covered.get(key)
    if covered is None:
        area = ctx.site.footprint
        if rule.where.distance_m:
            area = ctx.frame.to_lonlat(ctx.site_local.buffer(rule.where.distance_m, quad_segs=16))
        covered = ctx.covered[key] = bool(shapely.covers(cov, area))
    return covered


def _finding(rule: Rule, out: Outcome, project: Project, ruleset: RuleSet) -> Finding:
    verdict = rule.verdict
    requirements = list(rule.requirements_zh)
    exception = None
    refused: list[str] = []
    for exc in rule.exceptions:
        if not match(exc.when, project, ruleset.catalogue):
            continue
        why_not = _declaration_refused(exc.when.activity, project, ruleset)
        if why_not is not None:
            refused.append(why_not)  # the declaration does not fit the project: no downgrade
            continue
        verdict = exc.verdict
        requirements = [*exc.requirements_zh, *requirements]
        exception = ExceptionNote(exc.note_zh)
        break
    if exception is None:
        requirements.extend(refused)  # shown wherever requirements are (web page, report)
    if out.borderline:
        requirements.append(MANUAL_CHECK_ZH)
        if not out.fired and verdict == "forbid":
            verdict = "restrict"
    lay = out.layer
    return Finding(
        rule_id=rule.id,
        verdict=verdict,
        verdict_zh=VERDICT_ZH[verdict],
        family=rule.family,
        title_zh=rule.title_zh,
        title_en=rule.title_en,
        basis=rule.basis.model_dump(exclude_none=True),
        layer=LayerRef(lay.kind, lay.version.version) if lay else None,
        feature=(lay.feature_public(out.feature)
                 if isinstance(lay, IndexedLayer) and out.feature is not None else None),
        features_hit=out.features_hit,
        measure=out.measure,
        triggered=out.fired,
        borderline=out.borderline,
        message_zh=rule.message_zh,
        requirements_zh=requirements,
        exception=exception,
        exception_refused_zh=refused,
        interpretation_zh=rule.interpretation_zh,
        industry_categories=ruleset.catalogue.interpretations(rule.applies_to.industries,
                                                              project.industry),
        thumbnail=out.thumbnail or None,
        thumbnail_bounds=out.thumbnail_bounds if out.thumbnail else None,
    )


def _declaration_refused(activities: Sequence[str] | None, project: Project,
                         ruleset: RuleSet) -> str | None:
    """Why the declared activities an exception names cannot be accepted for this project
    (None: at least one fits, or the exception names no activity). The table of which
    industries and project types can be which activity is data: rules/activities.yaml."""
    if activities is None:
        return None
    declared = [a for a in project.activity if a in activities]
    fits = {a: activity_fits(a, project, ruleset.activities, ruleset.catalogue) for a in declared}
    if any(v is True for v in fits.values()):
        return None
    names = "、".join(ruleset.activities[a].title_zh if a in ruleset.activities else a
                     for a in declared)
    ind = project.industry
    what = (f"行业“{ind.code} {ind.name_zh}”" if ind is not None else "未提供行业代码")
    if ind is not None and any(v is None for v in fits.values()):
        what += "(代码过粗，无法核实)"
    return (f"申报的活动类型“{names}”与项目不符({what}，项目类型“{project.type}”)，"
            f"该申报未予采纳，不据此降低结论；如确属该类活动，请提供准确的行业代码和主管部门认定意见。")


def _gap(rule_id: str | None, code: GapCode, reason_zh: str, reason_en: str, **extra: Any) -> Gap:
    return Gap(rule_id=rule_id, code=code, reason=reason_zh, reason_en=reason_en, **extra)
