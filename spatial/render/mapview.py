"""Map preview (Leaflet) of a screening that works with no internet.

The page carries no script of its own: what it shows is a JSON block
(``<script type="application/json">``) that ``/static/mapview.js`` reads with ``JSON.parse``
and draws with the vendored Leaflet. Names from layer data are never put into script or
markup on the server; the script shows them as text (``textContent``) and escapes them where
Leaflet only takes HTML (the layer control). Leaflet is served by our own service
(``asset_base``); there is no tile layer unless one is configured, so the base map is drawn
from our own district boundaries and rivers.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

import shapely
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import degree_margin, local_frame
from spatial.layers.layerset import LayerSet
from spatial.render.basemap import distance_tests
from spatial.ruleset import RuleSet
from spatial.verdict import Finding, VerdictDocument

_COLOURS = {"forbid": "#c0392b", "restrict": "#e67e22", "advisory": "#2980b9"}
_VIEW_MARGIN_M = 6000.0
_SITE_STYLE = {"color": "#000", "weight": 3, "fillColor": "#f1c40f", "fillOpacity": 0.35}
_RING_STYLE = {"color": "#8e44ad", "weight": 2, "dashArray": "8 6"}


def _clip(geom: BaseGeometry, view: BaseGeometry) -> BaseGeometry:
    return shapely.clip_by_rect(geom, *view.bounds)


def _features(geoms: list[BaseGeometry], props: list[dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection of the non-empty geometries (clipping can leave empty collections)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": mapping(g), "properties": p}
        for g, p in zip(geoms, props, strict=True) if not g.is_empty]}


def script_json(data: Any) -> str:
    """``data`` as JSON that is safe inside ``<script type="application/json">``: no ``<``,
    ``>`` or ``&`` (so no ``</script>`` or ``<!--``), no U+2028/U+2029."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def render_map(doc: VerdictDocument, layers: LayerSet, *, asset_base: str,
               rules: RuleSet | None = None, tile_url: str | None = None,
               tile_attribution: str = "", static_base: str) -> str:
    """HTML page showing the site, hit features, tested rings, districts, rivers and a legend."""
    return page(doc, map_data(doc, layers, rules=rules, tile_url=tile_url,
                              tile_attribution=tile_attribution),
                asset_base=asset_base, static_base=static_base)


def map_data(doc: VerdictDocument, layers: LayerSet, *, rules: RuleSet | None = None,
             tile_url: str | None = None, tile_attribution: str = "") -> dict[str, Any]:
    """What the preview draws, as plain JSON: overlays in drawing order (each with its name
    in the layer control, a style and features whose ``tooltip`` is plain text), the view."""
    site = shape(doc.site["geometry"])
    lat = site.centroid.y
    view = box(*site.bounds).buffer(degree_margin(_VIEW_MARGIN_M, lat), join_style="mitre")
    overlays = _base_layers(layers, view)
    if rules is not None:
        overlays += _rings(layers, rules, site, view)
    for f in doc.findings:
        overlays += _finding_layer(layers, f, view)
    overlays.append({"name": "场址", "style": _SITE_STYLE, "geojson": _features(
        [site], [{"tooltip": f"场址 · 面积 {doc.site['area_m2'] / 1e4:.2f} 公顷"}])})
    minx, miny, maxx, maxy = box(*site.bounds).buffer(degree_margin(1500, lat)).bounds
    tiles = ({"name": "底图", "url": tile_url, "attribution": tile_attribution or "tiles"}
             if tile_url else None)
    return {"tiles": tiles, "overlays": overlays, "bounds": [[miny, minx], [maxy, maxx]]}


def page(doc: VerdictDocument, data: dict[str, Any], *, asset_base: str,
         static_base: str) -> str:
    """The preview page: markup, styles and scripts from our service, data as JSON."""
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>地图预览 {escape(doc.id)}</title>"
        "<link rel='icon' href='data:,'>"
        f"<link rel='stylesheet' href='{escape(asset_base)}/leaflet.css'>"
        f"<link rel='stylesheet' href='{escape(static_base)}/mapview.css'>"
        "</head><body><div id='map' role='application' aria-label='地图预览'></div>"
        f"{_legend(doc)}"
        f"<script type='application/json' id='map-data'>{script_json(data)}</script>"
        f"<script src='{escape(asset_base)}/leaflet.js'></script>"
        f"<script src='{escape(static_base)}/mapview.js'></script>"
        "</body></html>")


_BASE = [
    ("admin_district", "区县界", "区县", {"color": "#7f8c8d", "weight": 1.5, "dashArray": "6 4",
                                     "fillColor": "#ecf0f1", "fillOpacity": 0.6}),
    ("river", "河流", "河流", {"color": "#3498db", "weight": 4}),
]


def _base_layers(layers: LayerSet, view: BaseGeometry) -> list[dict[str, Any]]:
    """Our own base map: district boundaries and rivers, clipped to the view."""
    out = []
    for kind, title, alias, style in _BASE:
        lay = layers.layers.get(kind)
        if lay is None:
            continue
        idx = lay.tree.query(view)
        names = [str(lay.attrs[i]["name"]) for i in idx]
        fc = _features([_clip(lay.geoms[i], view) for i in idx],
                       [{"name": n, "tooltip": f"{alias}：{n}"} for n in names])
        if fc["features"]:
            out.append({"name": title, "style": style, "geojson": fc})
    return out


def _rings(layers: LayerSet, rules: RuleSet, site: BaseGeometry,
           view: BaseGeometry) -> list[dict[str, Any]]:
    """Buffer rings of every distance rule whose features are near the site."""
    frame = local_frame(site)
    geoms, props = [], []
    for w in distance_tests(layers, rules):
        assert w.layer is not None and w.distance_m is not None
        lay = layers.layers[w.layer]
        near = lay.candidates(view, w.filter)
        if not len(near):
            continue
        local = frame.to_local(_clip(shapely.union_all(lay.geoms[near]), view.buffer(0.1)))
        geoms.append(_clip(frame.to_lonlat(local.buffer(w.distance_m, quad_segs=8)).boundary, view))
        label = f"{'/'.join(str(v) for v in w.filter.values()) or lay.kind} {w.distance_m:g} 米"
        props.append({"tooltip": label})
    return [{"name": "距离控制线(已检测)", "style": _RING_STYLE, "geojson": _features(geoms, props)}]


def _finding_layer(layers: LayerSet, f: Finding, view: BaseGeometry) -> list[dict[str, Any]]:
    if f.thumbnail and f.thumbnail_bounds:
        w, s, e, n = f.thumbnail_bounds
        name = f"{f.verdict_zh}：{f.title_zh[:14]}(栅格 {f.measure['share']:.0%})"
        return [{"name": name, "image": {"url": f.thumbnail, "bounds": [[s, w], [n, e]],
                                         "opacity": 0.7}}]
    if not f.feature or f.layer is None:
        return []
    lay = layers.layers.get(f.layer.kind)
    if lay is None:
        return []
    geom = _clip(lay.geoms[f.feature["index"]], view)
    colour = _COLOURS[f.verdict]
    name = str(f.feature.get("name") or lay.version.meta.title)
    return [{"name": f"{f.verdict_zh}:{f.title_zh[:18]}",
             "style": {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.25},
             "geojson": _features([geom], [{"name": name, "tooltip":
                                            f"{f.verdict_zh} · {name} · {f.title_zh}"}])}]


_LEGEND = [("site", "场址"), ("forbid", "禁止类要素"), ("restrict", "限制类要素"),
           ("advisory", "提示类要素"), ("river", "河流"), ("ring", "距离控制线"),
           ("district", "区县界")]


def _legend(doc: VerdictDocument) -> str:
    demo = any(lay.get("demo") for lay in doc.layers)
    rows = "".join(f"<div><i class='sw sw-{k}'></i>{t}</div>" for k, t in _LEGEND)
    note = "<div class='demo'>含示意数据(demo),非法定边界</div>" if demo else ""
    verdict = escape(doc.verdict_zh)
    return f"<div class='legend'><b>图例 · 结论：{verdict}</b>{rows}{note}</div>"
