"""Map preview (folium/Leaflet) of a screening that works with no internet.

Leaflet is served by our own service (``asset_base``); there is no tile layer unless one is
configured, so the base map is drawn from our own district boundaries and rivers.
"""

from __future__ import annotations

from html import escape
from typing import Any

import folium
import shapely
from branca.element import Element
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from spatial.basemap import distance_tests
from spatial.geodesy import degree_margin, local_frame
from spatial.layerset import LayerSet
from spatial.ruleset import RuleSet

_COLOURS = {"forbid": "#c0392b", "restrict": "#e67e22", "advisory": "#2980b9"}
_VIEW_MARGIN_M = 6000.0


def _clip(geom: BaseGeometry, view: BaseGeometry) -> BaseGeometry:
    return shapely.clip_by_rect(geom, *view.bounds)


def _features(geoms: list[BaseGeometry], props: list[dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection of the non-empty geometries (clipping can leave empty collections)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": mapping(g), "properties": p}
        for g, p in zip(geoms, props, strict=True) if not g.is_empty]}


def render_map(doc: dict[str, Any], layers: LayerSet, *, asset_base: str,
               rules: RuleSet | None = None, tile_url: str | None = None,
               tile_attribution: str = "") -> str:
    """HTML page showing the site, hit features, tested rings, districts, rivers and a legend."""
    site = shape(doc["site"]["geometry"])
    lat = site.centroid.y
    view = box(*site.bounds).buffer(degree_margin(_VIEW_MARGIN_M, lat), join_style="mitre")
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    fmap.default_js = [("leaflet", f"{asset_base}/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{asset_base}/leaflet.css")]
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=tile_attribution or "tiles", name="底图").add_to(fmap)
    _base_layers(fmap, layers, view)
    if rules is not None:
        _rings(fmap, layers, rules, site, view)
    for f in doc["findings"]:
        _finding_layer(fmap, layers, f, view)
    folium.GeoJson(
        mapping(site), name="场址",
        style_function=lambda _: {"color": "#000", "weight": 3, "fillColor": "#f1c40f",
                                  "fillOpacity": 0.35},
        tooltip=f"场址 · 面积 {doc['site']['area_m2'] / 1e4:.2f} 公顷",
    ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    minx, miny, maxx, maxy = box(*site.bounds).buffer(degree_margin(1500, lat)).bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    fmap.get_root().html.add_child(Element(_legend(doc)))  # type: ignore[attr-defined]
    return fmap.get_root().render()


_BASE = [
    ("admin_district", "区县界", "区县", {"color": "#7f8c8d", "weight": 1.5, "dashArray": "6 4",
                                     "fillColor": "#ecf0f1", "fillOpacity": 0.6}),
    ("river", "河流", "河流", {"color": "#3498db", "weight": 4}),
]


def _base_layers(fmap: folium.Map, layers: LayerSet, view: BaseGeometry) -> None:
    """Our own base map: district boundaries and rivers, clipped to the view."""
    for kind, title, alias, style in _BASE:
        lay = layers.layers.get(kind)
        if lay is None:
            continue
        idx = lay.tree.query(view)
        fc = _features([_clip(lay.geoms[i], view) for i in idx],
                       [{"name": escape(str(lay.attrs[i]["name"]))} for i in idx])
        if fc["features"]:
            folium.GeoJson(fc, name=title, style_function=lambda _, st=style: st,
                           tooltip=folium.GeoJsonTooltip(["name"], aliases=[alias])).add_to(fmap)


def _rings(fmap: folium.Map, layers: LayerSet, rules: RuleSet, site: BaseGeometry,
           view: BaseGeometry) -> None:
    """Buffer rings of every distance rule whose features are near the site."""
    frame = local_frame(site)
    group = folium.FeatureGroup(name="距离控制线(已检测)")
    for w in distance_tests(layers, rules):
        assert w.layer is not None and w.distance_m is not None
        lay = layers.layers[w.layer]
        near = lay.candidates(view, w.filter)
        if not len(near):
            continue
        local = frame.to_local(_clip(shapely.union_all(lay.geoms[near]), view.buffer(0.1)))
        ring = _clip(frame.to_lonlat(local.buffer(w.distance_m, quad_segs=8)).boundary, view)
        label = escape(f"{'/'.join(str(v) for v in w.filter.values()) or lay.kind} {w.distance_m:g} 米")
        folium.GeoJson(mapping(ring), style_function=lambda _: {
            "color": "#8e44ad", "weight": 2, "dashArray": "8 6"}, tooltip=label).add_to(group)
    group.add_to(fmap)


def _finding_layer(fmap: folium.Map, layers: LayerSet, f: dict[str, Any],
                   view: BaseGeometry) -> None:
    if f.get("thumbnail") and f.get("thumbnail_bounds"):
        w, s, e, n = f["thumbnail_bounds"]
        folium.raster_layers.ImageOverlay(
            image=f["thumbnail"], bounds=[[s, w], [n, e]], opacity=0.7,
            name=f"{f['verdict_zh']}：{f['title_zh'][:14]}(栅格 {f['measure']['share']:.0%})",
        ).add_to(fmap)
        return
    if not f.get("feature") or not f.get("layer"):
        return
    lay = layers.layers.get(f["layer"]["kind"])
    if lay is None:
        return
    geom = _clip(lay.geoms[f["feature"]["index"]], view)
    colour = _COLOURS[f["verdict"]]
    name = escape(str(f["feature"].get("name") or lay.version.meta.title))
    folium.GeoJson(mapping(geom), name=f"{f['verdict_zh']}:{escape(f['title_zh'][:18])}",
                   style_function=lambda _, c=colour: {"color": c, "weight": 2,
                                                       "fillColor": c, "fillOpacity": 0.25},
                   tooltip=f"{f['verdict_zh']} · {name} · {f['title_zh']}").add_to(fmap)


def _legend(doc: dict[str, Any]) -> str:
    demo = any(lay.get("demo") for lay in doc["layers"])
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:10px;background:{c};'
        f'margin-right:6px"></span>{t}</div>'
        for c, t in [("#f1c40f", "场址"), (_COLOURS["forbid"], "禁止类要素"),
                     (_COLOURS["restrict"], "限制类要素"), (_COLOURS["advisory"], "提示类要素"),
                     ("#3498db", "河流"), ("#8e44ad", "距离控制线"), ("#7f8c8d", "区县界")])
    note = "<div style='color:#c0392b'>含示意数据(demo),非法定边界</div>" if demo else ""
    return (
        '<div style="position:fixed;bottom:24px;left:12px;z-index:9999;background:#fff;'
        'padding:8px 10px;border:1px solid #999;font:13px sans-serif;border-radius:4px">'
        f'<b>图例 · 结论：{doc.get("verdict_zh", doc["verdict"])}</b>{rows}{note}</div>'
    )
