"""A static map of a screening as inline SVG, drawn on the server (for the printed report).

Geometry is projected into the site's local metric frame, so the picture is to scale; a scale
bar and a north arrow are drawn. No tiles and no scripts: it prints and archives as is.
"""

from __future__ import annotations

from html import escape

import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import degree_margin, local_frame
from spatial.layers.layerset import LayerSet
from spatial.verdict import VerdictDocument

_AREA_WIDE = {"admin_district", "air_key_control_zone", "control_unit"}
_COLOURS = {"forbid": "#c0392b", "restrict": "#e67e22", "advisory": "#2980b9"}


def static_map_svg(doc: VerdictDocument, layers: LayerSet | None, *, width: int = 640,
                   height: int = 420, margin_m: float = 2500.0) -> str:
    """SVG of the site, the features it hit, rivers and district boundaries around it."""
    site = shape(doc.site["geometry"])
    frame = local_frame(site)
    lat = site.centroid.y
    view_ll = box(*site.bounds).buffer(degree_margin(margin_m, lat), join_style="mitre")
    minx, miny, maxx, maxy = frame.to_local(view_ll).bounds
    scale = min(width / (maxx - minx), height / (maxy - miny))

    def path(geom_ll: BaseGeometry) -> str:
        g = frame.to_local(shapely.clip_by_rect(geom_ll, *view_ll.bounds))
        parts = []
        for part in shapely.get_parts(g):
            rings = ([part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part])
            for ring in rings:
                pts = " L".join(f"{(x - minx) * scale:.1f},{(maxy - y) * scale:.1f}"
                                for x, y in ring.coords)
                parts.append(f"M{pts}" + (" Z" if part.geom_type == "Polygon" else ""))
        return " ".join(parts)

    layers_svg = []
    if layers is not None:
        for kind, style in (("admin_district", 'fill="#f4f6f6" stroke="#7f8c8d" '
                                               'stroke-dasharray="6 4" stroke-width="1"'),
                            ("river", 'fill="none" stroke="#3498db" stroke-width="3"')):
            lay = layers.layers.get(kind)
            if lay is not None:
                for i in lay.tree.query(view_ll):
                    if d := path(lay.geoms[i]):
                        layers_svg.append(f'<path d="{d}" {style}/>')
        for f in doc.findings:
            lay = layers.layers.get(f.layer.kind) if f.layer is not None else None
            if lay is None or not f.feature:
                continue
            colour = _COLOURS[f.verdict]
            # district-wide zones would bury the picture under one colour: outline them only
            opacity = 0.05 if lay.kind in _AREA_WIDE else 0.25
            if d := path(lay.geoms[f.feature["index"]]):
                layers_svg.append(f'<path d="{d}" fill="{colour}" fill-opacity="{opacity}" '
                                  f'stroke="{colour}" stroke-width="1.5"><title>'
                                  f'{escape(f.title_zh)}</title></path>')
    layers_svg.append(f'<path d="{path(site)}" fill="#f1c40f" fill-opacity="0.5" stroke="#000" '
                      'stroke-width="2"/>')
    bar_m = _nice((maxx - minx) / 4)
    bar_px = bar_m * scale
    label = f"{bar_m / 1000:g} 公里" if bar_m >= 1000 else f"{bar_m:g} 米"
    furniture = (
        f'<rect x="10" y="{height - 30}" width="{bar_px:.1f}" height="6" fill="#333"/>'
        f'<text x="10" y="{height - 36}" font-size="12">{label}</text>'
        f'<text x="{width - 24}" y="28" font-size="16" font-weight="bold">N</text>'
        f'<path d="M{width - 19},34 l-6,16 h12 Z" fill="#333"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="场址示意图">'
            f'<rect width="100%" height="100%" fill="#fff" stroke="#999"/>'
            f'{"".join(layers_svg)}{furniture}</svg>')


def _nice(x: float) -> float:
    """1, 2 or 5 × 10^n not above x."""
    mag = 10 ** (len(str(int(max(x, 1)))) - 1)
    for step in (5, 2, 1):
        if step * mag <= x:
            return float(step * mag)
    return float(mag)
