"""The layer kinds rules bind to (DESIGN §3): geometry family and attribute schema per kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Attribute:
    """One required attribute of a kind; ``domain`` lists the allowed values, if closed."""

    name: str
    type: type = str
    domain: tuple[Any, ...] | None = None
    nullable: bool = False
    pattern: str | None = None


@dataclass(frozen=True)
class LayerKind:
    """A semantic layer role, e.g. ``eco_redline``, with its schema."""

    name: str
    title_zh: str
    geometry: tuple[str, ...]
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)
    # class attributes: a version records which of their values it holds (SourceMeta.holds,
    # default the values found at import); a rule asking for another value is not decided
    classes: tuple[str, ...] = ()

    def attribute(self, name: str) -> Attribute | None:
        """The schema entry for an attribute, or None when the kind does not define it."""
        return next((a for a in self.attributes if a.name == name), None)


_POLY = ("Polygon", "MultiPolygon")
_LINE_OR_POLY = ("LineString", "MultiLineString", *_POLY)

KINDS: dict[str, LayerKind] = {
    k.name: k
    for k in [
        LayerKind("admin_district", "行政区(区县)", _POLY,
                  (Attribute("adcode", pattern=r"\d{6}"), Attribute("name"))),
        LayerKind("eco_redline", "生态保护红线", _POLY,
                  (Attribute("name", nullable=True), Attribute("code", nullable=True))),
        LayerKind("general_eco_space", "一般生态空间", _POLY, (Attribute("name", nullable=True),)),
        LayerKind("protected_area", "自然保护地", _POLY, (
            Attribute("name"),
            Attribute("category", domain=("nature_reserve", "forest_park", "wetland_park",
                                          "scenic_area", "geopark", "other")),
            Attribute("level", domain=("national", "municipal", "district")),
            Attribute("zone", domain=("core", "buffer", "experimental", "general_control",
                                      "none")),
        )),
        LayerKind("four_mountains", "“四山”管制区", _POLY, (
            Attribute("mountain", domain=("缙云山", "中梁山", "铜锣山", "明月山")),
            Attribute("zone", domain=("no_build", "key_control", "general_control")),
        )),
        LayerKind("water_source", "饮用水水源保护区", _POLY, (
            Attribute("name"), Attribute("zone", domain=("level1", "level2", "quasi")),
        )),
        LayerKind("river", "河流", _LINE_OR_POLY, (
            Attribute("name"),
            Attribute("class", domain=("mainstem", "important_tributary", "tributary")),
        ), classes=("class",)),
        LayerKind("industrial_park", "工业园区", _POLY, (
            Attribute("name"), Attribute("compliant", type=bool), Attribute("chemical", type=bool),
        )),
        LayerKind("control_unit", "环境管控单元", _POLY, (
            Attribute("code"), Attribute("name"),
            Attribute("type", domain=("priority_protection", "key_control", "general_control")),
        )),
        LayerKind("geohazard", "地质灾害危险区", _POLY, (
            Attribute("hazard", domain=("collapse", "landslide", "debris_flow")),
        )),
        LayerKind("air_key_control_zone", "大气污染重点控制区", _POLY, (Attribute("name"),)),
        LayerKind("built_up_area", "城市建成区", _POLY, (Attribute("name", nullable=True),)),
        LayerKind("basic_farmland", "永久基本农田", _POLY, ()),
        LayerKind("wetland", "湿地", _POLY, (Attribute("name", nullable=True),)),
        # 重庆高新区直管园: outside the scope of the 沙坪坝 plan (seed 004 L11 「不含高新区」)
        LayerKind("hitech_zone", "重庆高新区直管园", _POLY, (Attribute("name"),)),
        # 河道管理范围 and the 绿化缓冲带 outside it (seed 004 L720; 防洪法 第二十二条)
        LayerKind("river_management", "河道管理范围及绿化缓冲带", _POLY, (
            Attribute("name"),
            Attribute("zone", domain=("management_range", "green_buffer")),
        ), classes=("zone",)),
        # 居民区、学校、医院等敏感区 (seed 004 L837)
        LayerKind("sensitive_receptor", "环境敏感目标(居民区、学校、医院等)", _POLY, (
            Attribute("name"),
            Attribute("category", domain=("residential", "school", "hospital", "other")),
        )),
        # 嘉陵江沙坪坝区一侧及其上游沿江河地区 (seed 004 L837)
        LayerKind("riverside_area", "沿江河地区(饮用水源地上游)", _POLY, (
            Attribute("name"), Attribute("protects", nullable=True),
        )),
        # 林地, with 天然林 told apart from planted forest (seed 004 L712)
        LayerKind("forest_land", "林地", _POLY, (
            Attribute("name", nullable=True),
            Attribute("origin", domain=("natural", "planted", "unknown")),
        ), classes=("origin",)),
        # 入河排污口禁止设置区域 / 限制设置区域 (seed 004 L819)
        LayerKind("outfall_zone", "入河排污口禁止/限制设置区域", _POLY, (
            Attribute("name"),
            Attribute("zone", domain=("prohibited", "restricted")),
        ), classes=("zone",)),
    ]
}


@dataclass(frozen=True)
class RasterKind:
    """A raster layer role (GeoTIFF/COG): its value domain and what the values mean."""

    name: str
    title_zh: str
    integer: bool
    minimum: float
    maximum: float
    classes: dict[int, str] | None = None
    unit: str = ""


RASTER_KINDS: dict[str, RasterKind] = {
    k.name: k
    for k in [
        RasterKind("eco_importance", "生态保护重要性评价", True, 1, 3,
                   {1: "一般", 2: "重要", 3: "极重要"}),
        RasterKind("slope_deg", "坡度", False, 0, 90, unit="°"),
    ]
}


def is_raster(kind: str) -> bool:
    """True for raster layer kinds."""
    return kind in RASTER_KINDS
