"""Illustrative layers: invented shapes placed at the real places the seed documents name."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from scripts.demo_data.common import _TO_M, SHAPINGBA, polygonal, to_ll, to_m
from scripts.demo_data.districts import District
from scripts.demo_data.rivers import Feature

# ---------------------------------------------------------------------------------------------
# 3. Illustrative layers: invented shapes at the real places the seeds name
# ---------------------------------------------------------------------------------------------

GRID = 1e-6  # every overlay is snap-rounded to this grid so tilings stay exact after writing
CLEARANCE_M = 100.0  # gap kept between protected polygons and parks / built-up area


def m_xy(lon: float, lat: float) -> tuple[float, float]:
    """Lon/lat -> metric working-CRS coordinates."""
    x, y = _TO_M.transform(lon, lat)
    return float(x), float(y)


def ellipse(
    center: tuple[float, float], rx_m: float, ry_m: float, bearing_deg: float = 0.0, n: int = 36
) -> BaseGeometry:
    """Lon/lat ellipse with semi-axes in metres; ``ry`` points ``bearing_deg`` east of north."""
    cx, cy = m_xy(*center)
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    x, y = rx_m * np.cos(t), ry_m * np.sin(t)
    rot = math.radians(-bearing_deg)
    xy = np.column_stack(
        [cx + x * math.cos(rot) - y * math.sin(rot), cy + x * math.sin(rot) + y * math.cos(rot)]
    )
    return to_ll(Polygon(xy))


def rounded_rect(
    center: tuple[float, float], width_m: float, height_m: float, radius_m: float
) -> BaseGeometry:
    """Lon/lat north-up rectangle with rounded corners, sizes in metres."""
    cx, cy = m_xy(*center)
    core = box(
        cx - width_m / 2 + radius_m,
        cy - height_m / 2 + radius_m,
        cx + width_m / 2 - radius_m,
        cy + height_m / 2 - radius_m,
    )
    return to_ll(core.buffer(radius_m, quad_segs=4))


def corridor(axis: Sequence[tuple[float, float]], half_width_m: float) -> BaseGeometry:
    """Lon/lat band of constant width around a lon/lat axis (smooth round caps and joins)."""
    return to_ll(LineString([m_xy(*p) for p in axis]).buffer(half_width_m, quad_segs=4))


def river_band(river_ll: BaseGeometry, start_m: float, end_m: float, half_width_m: float) -> BaseGeometry:
    """Lon/lat band ±``half_width_m`` around the river between two along-river offsets."""
    reach = substring(to_m(river_ll), start_m, end_m)
    return to_ll(reach.buffer(half_width_m, cap_style="flat", quad_segs=4))


def diff(a: BaseGeometry, *others: BaseGeometry) -> BaseGeometry:
    """``a`` minus all ``others``, snap-rounded, polygonal."""
    for other in others:
        a = polygonal(shapely.difference(a, other, grid_size=GRID))
    return a


def inter(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """Intersection, snap-rounded, polygonal."""
    return polygonal(shapely.intersection(a, b, grid_size=GRID))


def union(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    """Union, snap-rounded, polygonal."""
    return polygonal(shapely.union_all([g for g in geoms if not g.is_empty], grid_size=GRID))


def grow(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """Lon/lat geometry buffered by a distance in metres."""
    return to_ll(to_m(geom).buffer(metres, quad_segs=4))


def largest_part(geom: BaseGeometry) -> BaseGeometry:
    """The biggest polygon of a (multi)polygon (drops crumbs left by differences)."""
    parts = list(getattr(geom, "geoms", [geom]))
    return max(parts, key=lambda g: g.area) if parts else geom


@dataclass
class Context:
    """Real geometry the illustrative layers are placed against."""

    districts: dict[str, District]
    chongqing: BaseGeometry
    rivers: dict[str, BaseGeometry]

    def district(self, *codes: str) -> BaseGeometry:
        """Union of the listed districts."""
        return union(self.districts[c].geom for c in codes)


CENTRAL_CITY = ("500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112", "500113")

# Ridge axes (lon, lat), SSW -> NNE, following the 四山 ridges of the central city.
RIDGES: dict[str, tuple[tuple[float, float], ...]] = {
    "缙云山": ((106.300, 29.700), (106.335, 29.770), (106.372, 29.840), (106.405, 29.910), (106.425, 29.985)),
    "中梁山": (
        (106.365, 29.360),
        (106.385, 29.470),
        (106.402, 29.560),
        (106.412, 29.650),
        (106.440, 29.750),
        (106.460, 29.840),
    ),
    "铜锣山": ((106.620, 29.400), (106.655, 29.550), (106.690, 29.700), (106.735, 29.850)),
    "明月山": ((106.820, 29.500), (106.865, 29.700), (106.925, 29.900), (106.980, 30.100)),
}
RIDGE_HALF_WIDTH_M = {"no_build": 250.0, "key_control": 600.0, "general_control": 1100.0}
JINYUN_RESERVE_AXIS = ((106.305, 29.715), (106.335, 29.770), (106.370, 29.835), (106.392, 29.878))
JINYUN_DISTRICTS = ("500106", "500109", "500120")  # the real reserve straddles 沙坪坝, 北碚, 璧山
JINYUN_CORE_AXIS = ((106.312, 29.728), (106.335, 29.770), (106.370, 29.835), (106.386, 29.866))


def protected_areas(ctx: Context) -> list[Feature]:
    """缙云山 NNR as nested core / buffer / experimental zones, and 歌乐山 national forest park."""
    core = corridor(JINYUN_CORE_AXIS, 700.0)
    buffer_ = union([corridor(JINYUN_RESERVE_AXIS, 1400.0), core])
    outer = union([corridor(JINYUN_RESERVE_AXIS, 2200.0), buffer_])
    name = "缙云山国家级自然保护区（示意）"
    within = ctx.district(*JINYUN_DISTRICTS)
    zones = [
        ("core", inter(core, within)),
        ("buffer", inter(diff(buffer_, core), within)),
        ("experimental", inter(diff(outer, buffer_), within)),
    ]
    out = [
        Feature({"name": name, "category": "nature_reserve", "level": "national", "zone": z}, g)
        for z, g in zones
    ]
    gele = inter(ellipse((106.404, 29.566), 1900.0, 3600.0, 15.0), ctx.district(SHAPINGBA))
    out.append(
        Feature(
            {
                "name": "歌乐山国家森林公园（示意）",
                "category": "forest_park",
                "level": "national",
                "zone": "general_control",
            },
            gele,
        )
    )
    return out


def four_mountains(ctx: Context) -> list[Feature]:
    """Each ridge: no_build strip, key_control band around it, general_control band around that."""
    central = ctx.district(*CENTRAL_CITY)
    out = []
    for mountain, axis in RIDGES.items():
        inner = Polygon()
        for zone, half_width in RIDGE_HALF_WIDTH_M.items():
            band = inter(corridor(axis, half_width), central)
            out.append(
                Feature(
                    {"name": f"{mountain}{_ZONE_ZH[zone]}（示意）", "mountain": mountain, "zone": zone},
                    diff(band, inner),
                )
            )
            inner = band
    return out


_ZONE_ZH = {"no_build": "禁建区", "key_control": "重点控建区", "general_control": "一般控建区"}

# Intakes (approximate WGS84) on the Jialing in Shapingba.
INTAKES = {"井口": (106.470, 29.660), "高家花园": (106.490, 29.580)}
# zone -> (metres upstream of the intake, metres downstream, half width)
WATER_ZONES = {
    "level1": (1000.0, 100.0, 300.0),
    "level2": (3000.0, 300.0, 800.0),
    "quasi": (6000.0, -3000.0, 800.0),
}


def jialing_channel(ctx: Context) -> BaseGeometry:
    """The Jialing along Shapingba as its real channel, continued upstream by the WDB II line.

    Along Shapingba the WDB II line is up to ~1.3 km off the river (at 高家花园 a ±300 m band around
    it would lie wholly in 江北区), while Shapingba's border with 江北/渝北 *is* the river (~50 m). The
    border's upstream end is within a few metres of the WDB II line, so the two join cleanly.
    """
    border = shapely.line_merge(
        to_m(ctx.district(SHAPINGBA).boundary.intersection(ctx.district("500105", "500112").boundary))
    )
    if border.geom_type != "LineString":
        raise AssertionError("Shapingba's Jialing border is not one line")
    river = to_m(ctx.rivers["嘉陵江"])
    if river.project(Point(border.coords[0])) > river.project(Point(border.coords[-1])):
        border = shapely.reverse(border)  # run downstream, like the river line
    upstream = substring(river, 0.0, river.project(Point(border.coords[0])))
    return to_ll(LineString([*upstream.coords, *border.coords]))


def water_sources(ctx: Context) -> list[Feature]:
    """Level-1 / level-2 / quasi zones along the Jialing channel at 井口 and 高家花园."""
    channel = jialing_channel(ctx)
    channel_m = to_m(channel)
    out: list[Feature] = []
    taken = Polygon()
    for zone in ("level1", "level2", "quasi"):  # inner zones first: they win any overlap
        up, down, half = WATER_ZONES[zone]
        for name, intake in INTAKES.items():
            at = channel_m.project(Point(m_xy(*intake)))
            band = inter(river_band(channel, at - up, at + down, half), ctx.chongqing)
            geom = diff(band, taken)
            taken = union([taken, geom])
            out.append(Feature({"name": f"{name}饮用水水源保护区（示意）", "zone": zone}, geom))
    return sorted(out, key=lambda f: (f.props["name"], f.props["zone"]))


def eco_redline(ctx: Context, reserve: list[Feature], ridges: list[Feature]) -> list[Feature]:
    """Red line in Shapingba: reserve core+buffer, 歌乐山 ridge top, 中梁山 ridge strip."""
    district = ctx.district(SHAPINGBA)
    jinyun = inter(union(f.geom for f in reserve if f.props["zone"] in ("core", "buffer")), district)
    gele_top = diff(inter(ellipse((106.402, 29.565), 550.0, 2000.0, 12.0), district), jinyun)
    zhongliang = union(
        f.geom for f in ridges if f.props["mountain"] == "中梁山" and f.props["zone"] == "no_build"
    )
    strip = diff(inter(zhongliang, district), jinyun, gele_top)
    parts = [
        ("缙云山生态保护红线（示意）", jinyun),
        ("歌乐山生态保护红线（示意）", gele_top),
        ("中梁山生态保护红线（示意）", strip),
    ]
    return [
        Feature({"name": name, "code": f"HX{SHAPINGBA}-{i:04d}"}, geom)
        for i, (name, geom) in enumerate(parts, start=1)
    ]


def general_eco_space(
    ctx: Context, reserve: list[Feature], ridges: list[Feature], redline: list[Feature]
) -> list[Feature]:
    """Ridge flanks around the red line in Shapingba (never overlapping it)."""
    district = ctx.district(SHAPINGBA)
    red = union(f.geom for f in redline)
    jinyun = diff(inter(union(f.geom for f in reserve if f.props["zone"] == "experimental"), district), red)
    zhongliang = union(
        f.geom for f in ridges if f.props["mountain"] == "中梁山" and f.props["zone"] == "key_control"
    )
    flank = diff(inter(zhongliang, district), red, jinyun)
    gele = next(f.geom for f in reserve if f.props["category"] == "forest_park")
    gele_rest = diff(inter(gele, district), red, jinyun, flank)
    return [
        Feature({"name": name}, geom)
        for name, geom in (
            ("缙云山一般生态空间（示意）", jinyun),
            ("中梁山一般生态空间（示意）", flank),
            ("歌乐山一般生态空间（示意）", gele_rest),
        )
    ]


def geohazards(ctx: Context) -> list[Feature]:
    """A landslide, a collapse and a debris-flow area on the flanks of 中梁山 (Shapingba)."""
    district = ctx.district(SHAPINGBA)
    spots = [
        ("landslide", (106.426, 29.603), 320.0, 220.0, 30.0),
        ("collapse", (106.393, 29.640), 200.0, 150.0, 10.0),
        ("debris_flow", (106.405, 29.700), 120.0, 450.0, 100.0),
    ]
    return [
        Feature({"name": f"{zh}（示意）", "hazard": hazard}, inter(ellipse(c, rx, ry, b, 24), district))
        for (hazard, c, rx, ry, b), zh in zip(
            spots, ("中梁山东麓滑坡", "中梁山西麓崩塌", "中梁山泥石流沟"), strict=True
        )
    ]


def farmland(ctx: Context) -> list[Feature]:
    """Patches of permanent basic farmland in the valley west of 中梁山 (回龙坝 area)."""
    district = ctx.district(SHAPINGBA)
    patches = [
        ((106.345, 29.702), 650.0, 420.0, 20.0),
        ((106.366, 29.688), 480.0, 330.0, -15.0),
        ((106.333, 29.681), 420.0, 300.0, 35.0),
    ]
    return [
        Feature({"id": f"JBNT{SHAPINGBA}-{i:03d}"}, inter(ellipse(c, rx, ry, b, 28), district))
        for i, (c, rx, ry, b) in enumerate(patches, start=1)
    ]


def wetlands(ctx: Context, water: list[Feature]) -> list[Feature]:
    """A riverside wetland on Shapingba's Jialing bank, between the two water-source areas."""
    district = ctx.district(SHAPINGBA)
    # Placed on the district's river border (the real channel, ~50 m) rather than on the
    # ~1 km-accurate WDB II line, so that it sits on the bank; the ellipse is cut by the border.
    marsh = ellipse((106.445, 29.631), 500.0, 1000.0, 10.0, 32)
    geom = diff(inter(marsh, district), union(f.geom for f in water))
    return [Feature({"name": "嘉陵江沙坪坝段滨江湿地（示意）"}, largest_part(geom))]


def hitech_zone(ctx: Context) -> list[Feature]:
    """The Shapingba part of the 重庆高新区直管园 (illustrative): seed 004 L11 excludes 高新区 from
    the 沙坪坝 plan. The real 直管园 takes in 西永、曾家、虎溪、香炉山 (and 含谷、金凤 in 九龙坡)
    west of 中梁山; this rough rectangle in the south-west of 500106 only stands for it, kept
    clear of the other illustrative shapes and the reference points. NOT the boundary."""
    zone = rounded_rect((106.286, 29.522), 7000.0, 5000.0, 1000.0)
    return [Feature({"name": "重庆高新区直管园沙坪坝片区（示意）"}, inter(zone, ctx.district(SHAPINGBA)))]


def jialing_bank(ctx: Context) -> BaseGeometry:
    """Shapingba's border with 江北/渝北: the Jialing's real channel (~50 m), as one line."""
    return shapely.line_merge(
        ctx.district(SHAPINGBA).boundary.intersection(ctx.district("500105", "500112").boundary)
    )


# Illustrative widths inland of the bank line (m): the 河道管理范围 and the 绿化缓冲带 outside it
# (seed 004 L720), and the strip where outfalls are zoned (L819). Invented, not surveyed.
MANAGEMENT_RANGE_M, GREEN_BUFFER_M, OUTFALL_STRIP_M = 60.0, 110.0, 100.0


def river_management(ctx: Context) -> list[Feature]:
    """The Jialing's management range and the green buffer strip outside it, along Shapingba's
    bank (seed 004 L720 「嘉陵江河道管理范围外侧绿化缓冲带」). Widths are illustrative."""
    district, bank = ctx.district(SHAPINGBA), jialing_bank(ctx)
    managed = inter(grow(bank, MANAGEMENT_RANGE_M), district)
    green = diff(inter(grow(bank, GREEN_BUFFER_M), district), managed)
    return [
        Feature({"name": "嘉陵江沙坪坝段河道管理范围（示意）", "zone": "management_range"}, managed),
        Feature({"name": "嘉陵江沙坪坝段绿化缓冲带（示意）", "zone": "green_buffer"}, green),
    ]


def riverside_area(ctx: Context) -> list[Feature]:
    """The land within 1 km of the Jialing on Shapingba's side, from where the river enters the
    district down to 300 m below the 高家花园 intake: seed 004 L837 「嘉陵江沙坪坝区一侧及其上游
    沿江河地区」 (the upstream districts are not drawn). The 1 km depth is illustrative."""
    channel = jialing_channel(ctx)
    at = to_m(channel).project(Point(m_xy(*INTAKES["高家花园"])))
    band = inter(river_band(channel, 0.0, at + 300.0, 1000.0), ctx.district(SHAPINGBA))
    return [Feature({"name": "嘉陵江沙坪坝一侧及上游沿江河地区（示意）",
                     "protects": "高家花园、井口饮用水水源地"}, band)]


def forest_land(ctx: Context, reserve: list[Feature], ridges: list[Feature]) -> list[Feature]:
    """Forest land on the ridges of Shapingba (seed 004 L712): natural forest in the 缙云山 reserve,
    planted forest on 中梁山 and in the 歌乐山 forest park. Illustrative."""
    district = ctx.district(SHAPINGBA)
    natural = inter(union(f.geom for f in reserve if f.props["category"] == "nature_reserve"), district)
    wooded = union(
        [f.geom for f in ridges if f.props["zone"] in ("no_build", "key_control")]
        + [f.geom for f in reserve if f.props["category"] == "forest_park"]
    )
    planted = diff(inter(wooded, district), natural)
    return [
        Feature({"name": "缙云山天然林（示意）", "origin": "natural"}, natural),
        Feature({"name": "中梁山、歌乐山人工林（示意）", "origin": "planted"}, planted),
    ]


# (name, category, centre, rx, ry) — near the real places, sizes invented
RECEPTORS = [
    ("重庆大学A区（示意）", "school", (106.458, 29.568), 300.0, 260.0),
    ("陆军军医大学第一附属医院（示意）", "hospital", (106.466, 29.550), 220.0, 180.0),
    ("三峡广场周边居住区（示意）", "residential", (106.457, 29.556), 300.0, 250.0),
]


def sensitive_receptors(ctx: Context) -> list[Feature]:
    """A university, a hospital and a residential quarter in the Shapingba town centre: the
    「居民区、学校、医院等敏感区」 of seed 004 L837. Illustrative shapes near the real places."""
    district = ctx.district(SHAPINGBA)
    return [
        Feature({"name": name, "category": cat}, inter(ellipse(c, rx, ry, 0.0, 28), district))
        for name, cat, c, rx, ry in RECEPTORS
    ]


def outfall_zones(ctx: Context, water: list[Feature]) -> list[Feature]:
    """入河排污口禁止/限制设置区域 along Shapingba's Jialing bank (seed 004 L819 orders them drawn):
    prohibited within 300 m of the water-source zones, restricted along the rest of the bank."""
    district = ctx.district(SHAPINGBA)
    strip = inter(grow(jialing_bank(ctx), OUTFALL_STRIP_M), district)
    prohibited = inter(strip, grow(union(f.geom for f in water), 300.0))
    return [
        Feature({"name": "嘉陵江井口、高家花园段入河排污口禁止设置区域（示意）", "zone": "prohibited"},
                prohibited),
        Feature({"name": "嘉陵江沙坪坝段入河排污口限制设置区域（示意）", "zone": "restricted"},
                diff(strip, prohibited)),
    ]


def industrial_parks(ctx: Context, protected: BaseGeometry) -> list[Feature]:
    """Two compliant parks in Shapingba, the 长寿 chemical park, one invented non-compliant area."""
    district = ctx.district(SHAPINGBA)
    keep_out = grow(protected, CLEARANCE_M)
    qingfeng = rounded_rect((106.330, 29.630), 5200.0, 6000.0, 1200.0)
    jingkou = rounded_rect((106.436, 29.651), 2200.0, 2400.0, 600.0)
    invented = ellipse((106.272, 29.566), 1100.0, 800.0, 70.0, 28)
    # 长寿 chemical park: north of the Yangtze at 晏家, kept 300 m off the river centreline;
    # its northern part lies > 3 km from every river of the river layer.
    changshou = diff(
        inter(rounded_rect((107.060, 29.848), 10000.0, 7000.0, 1500.0), ctx.district("500115")),
        grow(ctx.rivers["长江"], 300.0),
    )
    specs = [
        ("青凤高科产业园（示意）", qingfeng, district, True, False),
        ("井口工业园（示意）", jingkou, district, True, False),
        ("示意工业集中区（虚构，无规划环评）", invented, district, False, False),
        ("长寿经济技术开发区化工园区（示意）", largest_part(changshou), ctx.chongqing, True, True),
    ]
    return [
        Feature(
            {"name": name, "compliant": compliant, "chemical": chemical},
            largest_part(diff(inter(geom, within), keep_out)),
        )
        for name, geom, within, compliant, chemical in specs
    ]


def built_up(ctx: Context, protected: BaseGeometry, parks: list[Feature]) -> list[Feature]:
    """The built-up core of Shapingba (沙坪坝 town centre), clear of protected areas and parks."""
    core = inter(ellipse((106.452, 29.566), 2600.0, 4600.0, 20.0, 40), ctx.district(SHAPINGBA))
    geom = diff(core, grow(protected, CLEARANCE_M), grow(union(f.geom for f in parks), CLEARANCE_M))
    return [Feature({"name": "沙坪坝中心城区建成区（示意）"}, largest_part(geom))]


def tile(region: BaseGeometry, members: Sequence[BaseGeometry]) -> tuple[list[BaseGeometry], BaseGeometry]:
    """Split ``region`` into one piece per member (earlier members win) plus the rest.

    All boundaries are noded together once and polygonized, and every face is given to exactly one
    owner, so the pieces share identical edges: no gaps or overlaps even after snap-rounding.
    """
    linework = shapely.union_all([region.boundary, *(m.boundary for m in members)], grid_size=GRID)
    owners: list[list[BaseGeometry]] = [[] for _ in range(len(members) + 1)]
    for face in shapely.get_parts(shapely.polygonize(shapely.get_parts(linework))):
        inside = face.representative_point()
        if not region.contains(inside):
            continue
        owner = next((i for i, m in enumerate(members) if m.contains(inside)), len(members))
        owners[owner].append(face)
    pieces = [union(faces) if faces else Polygon() for faces in owners]
    return pieces[:-1], pieces[-1]


def control_units(
    ctx: Context, redline: list[Feature], eco_space: list[Feature], parks: list[Feature], built: list[Feature]
) -> list[Feature]:
    """三线一单 control units tiling all of Shapingba: priority, key, then general for the rest."""
    members = [("priority_protection", f) for f in (*redline, *eco_space)] + [
        ("key_control", f) for f in (*parks, *built)
    ]
    pieces, rest = tile(ctx.district(SHAPINGBA), [f.geom for _, f in members])
    out: list[Feature] = []
    serial = {"priority_protection": 0, "key_control": 0}
    for (unit_type, f), piece in zip(members, pieces, strict=True):
        if to_m(piece).area < 1.0:
            continue  # e.g. the 长寿 park lies outside Shapingba
        serial[unit_type] += 1
        label = f.props["name"].replace("（示意）", "")
        out.append(
            _unit(unit_type, 1 if unit_type == "priority_protection" else 2, serial[unit_type], label, piece)
        )
    out.append(_unit("general_control", 3, 1, "沙坪坝区一般管控单元", rest))
    return out


_UNIT_ZH = {
    "priority_protection": "优先保护单元",
    "key_control": "重点管控单元",
    "general_control": "一般管控单元",
}


def _unit(unit_type: str, digit: int, serial: int, label: str, geom: BaseGeometry) -> Feature:
    name = label if label.endswith("单元") else f"沙坪坝区{_UNIT_ZH[unit_type]}（{label}）"
    return Feature(
        {"code": f"ZH{SHAPINGBA}{digit}{serial:04d}", "name": name + "（示意）", "type": unit_type}, geom
    )


# Seed 000 L105/L106: 主城都市区全域 + 万州区、开州区、梁平区 are the 大气污染重点控制区.
# 主城都市区 = 中心城区 (9) + 12 districts (the standard definition; the seed does not list them).
METRO_AREA = (
    *CENTRAL_CITY,
    "500102",
    "500110",
    "500111",
    "500115",
    "500116",
    "500117",
    "500118",
    "500119",
    "500120",
    "500151",
    "500152",
    "500153",
)
AIR_EXTRA = ("500101", "500154", "500155")


def air_zone(ctx: Context) -> list[Feature]:
    """The air key-control zone dissolved from the real district boundaries (not illustrative)."""
    if len(METRO_AREA) != 21:
        raise ValueError("主城都市区 must have 21 districts")
    return [
        Feature(
            {"name": "重庆市大气污染重点控制区（主城都市区及万州区、开州区、梁平区）"},
            ctx.district(*METRO_AREA, *AIR_EXTRA),
        )
    ]
