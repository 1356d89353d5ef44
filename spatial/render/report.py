"""Printable HTML report of a screening (for the case file); no scripts, print CSS only."""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from shapely.geometry import shape

from spatial.layers.accesslist import by_dimension
from spatial.verdict import Finding, VerdictDocument

_VERDICTS = ("forbid", "restrict", "pass", "indeterminate")  # badge colours: .v-* in _CSS
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222;font-size:14px}
h1{font-size:20px} h2{font-size:16px;border-bottom:1px solid #999;margin-top:20px}
table{border-collapse:collapse;width:100%} td,th{border:1px solid #bbb;padding:4px 6px;vertical-align:top}
.badge{display:inline-block;color:#fff;padding:4px 12px;border-radius:4px;font-weight:bold}
.v-forbid{background:#c0392b} .v-restrict{background:#e67e22} .v-pass{background:#27ae60}
.v-indeterminate{background:#7f8c8d}
.quote{color:#555} .demo{color:#c0392b;font-weight:bold} .small{font-size:12px;color:#555}
@media print{body{margin:10mm} a{color:inherit;text-decoration:none} h2{page-break-after:avoid}
tr{page-break-inside:avoid}}
"""
#: the CSP source that allows the one ``<style>`` block (no style attributes on the page)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
MAX_VERTEX_ROWS = 60


def render_report(doc: VerdictDocument, map_svg: str = "") -> str:
    """The report page for a stored verdict document (``map_svg``: the static site map)."""
    site = doc.site
    verdict = doc.verdict if doc.verdict in _VERDICTS else "indeterminate"
    demo = any(lay.get("demo") for lay in doc.layers)
    rows = [
        "<h1>生态红线与环境分区管控选址筛查报告</h1>",
        f"<p>筛查编号：{escape(doc.id)}　日期：{escape(doc.created_at)}</p>",
        f"<p><span class='badge v-{verdict}'>{escape(doc.verdict_zh)}</span>"
        f"　{escape(doc.summary_zh)}</p>",
        "<h2>场址</h2>", f"<div class='map'>{map_svg}</div>" if map_svg else "",
        _site_table(site), _vertex_table(site),
        "<h2>项目</h2>", _project(doc.project),
        "<h2>筛查结果</h2>", _findings(doc.findings),
        _units(doc.control_units, doc.checklist),
    ]
    if doc.not_evaluated:
        rows += ["<h2>无法评估的事项</h2><ul>"]
        rows += [f"<li>{escape(g.rule_id or '—')}：{escape(g.reason)}</li>"
                 for g in doc.not_evaluated]
        rows += ["</ul>"]
    rows += ["<h2>数据与规则版本</h2>", _layers(doc.layers),
             f"<p class='small'>规则集 sha256：{escape(doc.rules_version)}　"
             f"引擎版本：{escape(doc.engine_version)}</p>"]
    if demo:
        rows.append("<p class='demo'>本次筛查使用了示意数据(demo)，示意图层不是法定边界，"
                    "结果不得作为审批依据。</p>")
    rows.append("<h2>声明</h2><p class='small'>本报告为选址初筛参考，依据所列数据版本与规则自动生成，"
                "不替代法定审批、现场核查及主管部门意见；边界附近(标注“边界待核”)的结论须人工核查。</p>")
    body = "\n".join(rows)
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<title>筛查报告 {escape(doc.id)}</title><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>")


def render_validation(version: dict[str, Any]) -> str:
    """A layer version's validation report as a readable page."""
    v = version["validation"]
    status = ("<span class='badge v-forbid'>校验未通过，不可启用</span>" if v["errors"]
              else "<span class='badge v-pass'>校验通过，可启用</span>")
    facts = [("图层类型", version["kind"]), ("版本", version["version"]),
             ("sha256", version["sha256"]), ("名称", version["title"]),
             ("要素数", v["feature_count"]), ("源坐标系", v.get("source_crs")),
             ("位置精度", f"±{version['accuracy_m']} m"), ("示意数据", "是" if version["demo"] else "否"),
             ("上传人", version["loaded_by"]), ("上传时间", version["loaded_at"]),
             ("修复的无效几何", v["repaired"]), ("剔除的空几何", v["dropped_empty"]),
             ("重复几何", v["duplicates"]), ("完全在重庆市外", v["outside_region"]),
             ("部分在重庆市外", v["partly_outside_region"])]
    parts = [f"<h1>图层校验报告</h1><p>{status}</p>", _kv(facts)]
    for title, items in (("错误(阻止启用)", v["errors"]), ("警告", v["warnings"])):
        if items:
            parts.append(f"<h2>{title}</h2><ul>" + "".join(f"<li>{escape(str(i))}</li>"
                                                         for i in items) + "</ul>")
    if v.get("repairs"):
        parts.append("<h2>几何修复明细</h2><table><tr><th>要素</th><th>原因</th><th>方法</th></tr>"
                     + "".join(f"<tr><td>{escape(str(r['feature']))}</td><td>{escape(r['reason'])}</td>"
                               f"<td>{escape(r['method'])}</td></tr>" for r in v["repairs"])
                     + "</table>")
    cmp_ = v.get("comparison")
    if cmp_:
        parts.append(f"<h2>与启用版本 {escape(str(cmp_['previous_version']))} 对比</h2>")
        parts.append(_kv([("要素数", f"{cmp_['before']['count']} → {cmp_['after']['count']}"),
                          ("面积(m²)", f"{cmp_.get('area_before_m2')} → {cmp_.get('area_after_m2')}"),
                          ("新增面积(m²)", cmp_.get("added_m2")),
                          ("减少面积(m²)", cmp_.get("removed_m2"))]))
        rows = cmp_.get("by_value") or []
        if rows:
            parts.append("<table><tr><th>属性</th><th>取值</th><th>要素数</th><th>面积变化(m²)</th>"
                         "<th>新增</th><th>减少</th></tr>" + "".join(
                             f"<tr><td>{escape(str(r['attribute']))}</td>"
                             f"<td>{escape(str(r['value']))}</td>"
                             f"<td>{escape(str(r['count_before']))} → "
                             f"{escape(str(r['count_after']))}</td>"
                             f"<td>{escape(str(r['area_before_m2']))} → "
                             f"{escape(str(r['area_after_m2']))}</td>"
                             f"<td>{escape(str(r['added_m2']))}</td>"
                             f"<td>{escape(str(r['removed_m2']))}</td></tr>"
                             for r in rows) + "</table>")
    body = "\n".join(parts)
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>图层校验报告 "
            f"{escape(version['kind'])} {escape(version['version'])}</title><style>{_CSS}</style>"
            f"</head><body>{body}</body></html>")


def _kv(items: list[tuple[str, Any]]) -> str:
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
                               for k, v in items) + "</table>"


def _site_table(site: dict[str, Any]) -> str:
    districts = "、".join(str(d["name"]) for d in site.get("districts", [])) or "—"
    items = [("面积", f"{site['area_m2']:,.1f} m²"), ("几何类型", site["geometry_type"]),
             ("中心点", f"{site['centroid'][0]:.6f}, {site['centroid'][1]:.6f}"),
             ("输入坐标系", site["input_crs"]), ("输入格式", site.get("input_format", "")),
             ("所在区县", districts)]
    if site.get("length_m"):
        items.append(("线长", f"{site['length_m']:,.1f} m"))
    if site.get("warnings"):
        items.append(("提示", "；".join(site["warnings"])))
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
                               for k, v in items) + "</table>"


def _vertex_table(site: dict[str, Any]) -> str:
    geom = shape(site["geometry"])
    coords = []
    for poly in getattr(geom, "geoms", [geom]):
        coords.extend(poly.exterior.coords)
    shown = coords[:MAX_VERTEX_ROWS]
    more = (f"<p class='small'>共 {len(coords)} 个顶点，仅列前 {MAX_VERTEX_ROWS} 个。</p>"
            if len(coords) > MAX_VERTEX_ROWS else "")
    rows = "".join(f"<tr><td>{i + 1}</td><td>{x:.7f}</td><td>{y:.7f}</td></tr>"
                   for i, (x, y) in enumerate(shown))
    return ("<p class='small'>筛查范围顶点(CGCS2000/WGS84 经纬度)</p><table><tr><th>序号</th>"
            f"<th>经度</th><th>纬度</th></tr>{rows}</table>{more}")


def _project(p: dict[str, Any]) -> str:
    ind = p.get("industry") or {}
    items = [("行业", f"{ind.get('code', '未提供')} {ind.get('name_zh', '')}"),
             ("建设性质", p.get("nature") or "未提供"), ("项目类型", p.get("type")),
             ("活动类型", "、".join(p.get("activity") or []) or "—"),
             ("项目标志", "、".join(p.get("flags") or []) or "—")]
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
                               for k, v in items) + "</table>"


def _notes(f: Finding) -> str:
    """依据待核实 (basis.verified false), 本工具解释 and 未采纳的申报 lines of one finding."""
    out = ""
    if f.basis.get("verified") is False:
        out += ("<span class='small unverified'><b>依据待核实</b>：引文未能对照本库存储的原文核对，"
                "请以正式文本为准</span><br>")
    if f.interpretation_zh:
        out += (f"<span class='small'><b>本工具解释</b>：{escape(f.interpretation_zh)}"
                "</span><br>")
    if f.exception_refused_zh:
        text = "；".join(f.exception_refused_zh)
        out += f"<span class='small'><b>未采纳的申报</b>：{escape(text)}</span><br>"
    return out


def _units(units: list[dict[str, Any]], checklist: list[dict[str, Any]]) -> str:
    """The control units the site touches, and the access-list items to tick by hand."""
    if not units:
        return ""
    out = ["<h2>环境管控单元</h2><table><tr><th>单元编码</th><th>单元名称</th><th>类别</th>"
           "<th>占场址</th><th>准入清单条目</th></tr>"]
    for u in units:
        n = "未启用准入清单" if u.get("requirements") is None else f"{u['requirements']} 条"
        out.append(f"<tr><td>{escape(str(u['code']))}</td><td>{escape(str(u['name']))}</td>"
                   f"<td>{escape(str(u.get('type_zh') or u['type']))}</td>"
                   f"<td>{u['share']:.1%}</td><td>{escape(n)}</td></tr>")
    out.append("</table>")
    if checklist:
        out.append("<h3>须逐条核对的准入要求</h3><p class='small'>以下条文本工具无法自动判定，"
                   "请逐条核对后勾选；标“禁止性”的条文未经确认前结论不得视为通过。</p>")
        for dim, items in by_dimension(checklist):
            out.append(f"<h4>{escape(dim)}</h4><ul class='checklist'>")
            out += [f"<li>☐ {escape(c['unit_code'])}：{escape(c['text'])}"
                    + ("<b>(禁止性)</b>" if c["prohibitive"] else "") + "</li>" for c in items]
            out.append("</ul>")
    return "".join(out)


def _findings(findings: list[Finding]) -> str:
    if not findings:
        return "<p>未触发任何规则。</p>"
    out = ["<table><tr><th>结论</th><th>规则与依据</th><th>量测</th><th>要求</th></tr>"]
    for f in findings:
        b = f.basis
        measure = "；".join(f"{k}={v}" for k, v in f.measure.items())
        feature = (f.feature or {}).get("name") or ""
        flag = "<br><b>边界待核</b>" if f.borderline else ""
        out.append(
            f"<tr><td>{escape(f.verdict_zh)}{flag}</td>"
            f"<td><b>{escape(f.title_zh)}</b><br>{escape(b['document'])} {escape(b['clause'])}"
            f"<br><span class='quote'>“{escape(b.get('quote_zh_hans') or b['quote'])}”</span><br>"
            + _notes(f)
            + "".join(f"<span class='small'>行业归类：{escape(c['name_zh'])}——"
                      f"{escape(c['interpretation_zh'])}</span><br>"
                      for c in f.industry_categories) +
            f"<span class='small'>{escape(f.rule_id)} · {escape(feature)}</span></td>"
            f"<td>{escape(measure)}</td>"
            f"<td>{'<br>'.join(escape(r) for r in f.requirements_zh)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _layers(layers: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{escape(lay['kind'])}</td><td>{escape(lay.get('title', ''))}</td>"
        f"<td>{escape(lay['version'])}</td><td class='small'>{escape(lay['sha256'])}</td>"
        f"<td>{'示意' if lay.get('demo') else '—'}</td></tr>" for lay in layers)
    return ("<table><tr><th>图层</th><th>名称</th><th>版本</th><th>sha256</th><th>demo</th></tr>"
            f"{rows}</table>")
