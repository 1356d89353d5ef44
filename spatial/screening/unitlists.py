"""The control units a site touches and their access lists' part of a screening.

For each 环境管控单元 the site overlaps, its rows in the active access list (spatial.layers.accesslist)
are either *checked* (the row carries a condition in the rule language: a finding when the
project meets it, a gap when the project does not say) or go, verbatim, into the verdict's
``checklist`` (须逐条核对).

An unchecked prohibition (禁止, 不得 …) cannot be cleared by the tool, and the reader may not
take a 通过 to mean the project is clear of it. So where any is listed the screening carries
one ``restrict`` finding, ``access-list-unchecked-prohibitions``, whose requirements are to
confirm each such item; the verdict is therefore never a plain ``pass`` (docs/rule-format.md
"Access lists"). Other unchecked items are listed only (advisory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely

from spatial.geodesy import geodesic_area
from spatial.hanzi import to_simplified
from spatial.layers.accesslist import TITLE_ZH, AccessList, Requirement
from spatial.layers.layerset import IndexedLayer
from spatial.project import Project, match, missing_attributes
from spatial.ruleset import RuleSet
from spatial.screening.context import Context
from spatial.verdict import VERDICT_ZH, Finding, FindingVerdict, Gap, LayerRef

UNCHECKED_ID = "access-list-unchecked-prohibitions"
_CLASS_ZH = {"priority_protection": "优先保护单元", "key_control": "重点管控单元",
             "general_control": "一般管控单元"}


@dataclass(frozen=True)
class UnitResult:
    """What the control units and their lists add to a screening."""

    units: list[dict[str, Any]]
    findings: list[Finding]
    checklist: list[dict[str, Any]]
    gaps: list[Gap]


def screen_units(ctx: Context, project: Project, ruleset: RuleSet) -> UnitResult:
    """The control units the site touches (largest share first) and, with an active access
    list, the findings, checklist and gaps of their requirements."""
    cu = ctx.layers.layers.get("control_unit")
    if cu is None:
        return UnitResult([], [], [], [])
    access = ctx.layers.tables.get("access_list")
    touched = _touched(ctx, cu)
    units: list[dict[str, Any]] = []
    findings: list[Finding] = []
    checklist: list[dict[str, Any]] = []
    gaps: list[Gap] = []
    for i, area in touched:
        attrs = cu.attrs[i]
        code = str(attrs.get("code"))
        rows = access.by_unit.get(code, []) if access is not None else []
        units.append({"code": code, "name": attrs.get("name"), "type": attrs.get("type"),
                      "type_zh": _CLASS_ZH.get(str(attrs.get("type")), attrs.get("type")),
                      "overlap_m2": round(area, 1),
                      "share": round(area / ctx.site_area_m2, 4) if ctx.site_area_m2 else 0.0,
                      "requirements": len(rows) if access is not None else None})
        for row in rows:
            assert access is not None  # rows come from the list
            if row.when is None:
                checklist.append(row.checklist_item())
                continue
            applies = match(row.when, project, ruleset.catalogue)
            if applies is True:
                findings.append(_row_finding(row, access, cu, i, units[-1], project, ruleset))
            elif applies is None and row.verdict != "advisory":
                names = missing_attributes(row.when, project, ruleset.catalogue)
                gaps.append(Gap(rule_id=_row_id(row), code="attribute_missing",
                                reason=f"准入清单({code} {row.dimension})要求核对项目的"
                                       f"{'、'.join(names)}：{row.text}",
                                reason_en="Access-list requirement needs project attribute(s): "
                                          + ", ".join(names),
                                missing=tuple(names)))
    banned = [c for c in checklist if c["prohibitive"]]
    if banned and access is not None:
        findings.append(_unchecked_finding(banned, access))
    return UnitResult(units, findings, checklist, gaps)


def _touched(ctx: Context, cu: IndexedLayer) -> list[tuple[int, float]]:
    site_ll = ctx.site.footprint
    out = []
    for i in ctx.candidates(cu, site_ll, {}):
        if shapely.contains_properly(cu.geoms[i], site_ll):
            area = ctx.site_area_m2
        else:
            area = geodesic_area(shapely.intersection(site_ll, cu.geoms[i]))
        if area > 0:
            out.append((int(i), area))
    return sorted(out, key=lambda t: -t[1])


def _row_id(row: Requirement) -> str:
    return f"access-list-{row.unit_code}-{row.key}"


def _basis(access: AccessList, clause: str, quote: str) -> dict[str, Any]:
    meta = access.version.meta
    return {"document": f"{TITLE_ZH}：{meta.title}", "issuer": meta.publisher or None,
            "date": meta.date or None, "clause": clause, "quote": quote,
            "source": f"access_list:{access.version.version}", "verified": not meta.demo,
            "quote_zh_hans": to_simplified(quote)}


def _finding(rule_id: str, verdict: FindingVerdict, title: str, basis: dict[str, Any],
             message: str, requirements: list[str], *, layer: LayerRef | None = None,
             feature: dict[str, Any] | None = None, measure: dict[str, Any] | None = None,
             interpretation: str | None = None,
             categories: list[dict[str, Any]] | None = None) -> Finding:
    """An access-list finding (a rule's, spatial.screening.evaluation._finding, has the same type)."""
    return Finding(rule_id=rule_id, verdict=verdict, verdict_zh=VERDICT_ZH[verdict],
                   family="access_list", title_zh=title,
                   title_en="Control-unit access list requirement",
                   basis={k: v for k, v in basis.items() if v is not None},
                   layer=layer, feature=feature, features_hit=1 if feature else 0,
                   measure=measure if measure is not None else {}, triggered=True,
                   borderline=False, message_zh=message, requirements_zh=requirements,
                   interpretation_zh=interpretation, industry_categories=categories or [])


def _row_finding(row: Requirement, access: AccessList, cu: IndexedLayer, i: int,
                 unit: dict[str, Any], project: Project, ruleset: RuleSet) -> Finding:
    verdict: FindingVerdict = row.verdict or "advisory"
    assert row.when is not None
    return _finding(
        _row_id(row), verdict, f"{row.unit_code} {row.dimension}：{row.text[:40]}",
        _basis(access, f"{row.unit_code} {row.unit_name} · {row.dimension}", row.text),
        f"场址位于环境管控单元 {row.unit_code}({row.unit_name}，占场址 {unit['share']:.1%})。"
        f"该单元生态环境准入清单({row.dimension})：{row.text}",
        [f"落实准入清单要求：{row.text}"],
        layer=LayerRef(cu.kind, cu.version.version),
        feature=cu.feature_public(i),
        measure={"overlap_m2": unit["overlap_m2"], "overlap_share": unit["share"]},
        categories=ruleset.catalogue.interpretations(row.when.industries, project.industry))


def _unchecked_finding(banned: list[dict[str, Any]], access: AccessList) -> Finding:
    units = sorted({c["unit_code"] for c in banned})
    return _finding(
        UNCHECKED_ID, "restrict", "环境管控单元准入清单中的禁止性要求须逐条核对",
        _basis(access, "、".join(units), "；".join(c["text"] for c in banned[:3])
               + ("……" if len(banned) > 3 else "")),
        f"场址所在环境管控单元的准入清单有 {len(banned)} 条禁止性要求本工具无法自动判定"
        "(未附可核查条件)，不能据此判为通过；须逐条确认项目不属于所禁止的情形。",
        [f"确认不属于：{c['text']}({c['unit_code']} {c['dimension']})" for c in banned],
        interpretation="清单条文含“禁止”“不得”等字样而未附本工具可核查的条件时，"
                       "本工具不能排除项目属于所禁止的情形，故判为限制并要求逐条确认；"
                       "其余未核查条文列入“须逐条核对”清单，不影响结论。")

