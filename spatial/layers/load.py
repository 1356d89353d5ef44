"""Read a layer file a GIS officer uploads: GeoJSON, zipped shapefile (``.cpg`` / GBK /
stated encoding), GeoPackage (chosen table), KML/KMZ; apply the field mapping and CRS rules."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from spatial.errors import InputError
from spatial.vectorfiles import VectorFile, open_vector

LAYER_SUFFIXES = {".geojson", ".json", ".zip", ".gpkg", ".kml", ".kmz"}


@dataclass(frozen=True)
class LayerSource:
    """How to read an uploaded layer file."""

    path: Path
    encoding: str | None = None
    table: str | None = None
    crs: str | None = None
    field_map: dict[str, str] = field(default_factory=dict)


def read_layer(src: LayerSource) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The features of an uploaded layer file, with fields renamed; notes for the report."""
    suffix = src.path.suffix.lower()
    if suffix not in LAYER_SUFFIXES:
        raise InputError(f"不支持的图层文件类型：{suffix}；支持 {', '.join(sorted(LAYER_SUFFIXES))}",
                         f"Unsupported layer file type: {suffix}", code="upload.unsupported_format")
    with tempfile.TemporaryDirectory(prefix="redline-layer-") as tmp:
        vf = open_vector(src.path, Path(tmp), encoding=src.encoding)
        notes = list(vf.notes)
        gdf = _read(vf, src.table, notes)
    _refuse_mojibake(gdf)
    if gdf.crs is None:
        if not src.crs:
            raise InputError("图层文件没有坐标系信息(如 shapefile 缺少 .prj)，请上传时注明坐标系",
                             "The layer file has no CRS; state it with the upload",
                             code="layer.crs_missing")
        gdf = gdf.set_crs(src.crs)
        notes.append(f"文件无坐标系，按上传时指定的 {src.crs} 读取")
    return _map_fields(gdf, src.field_map), notes


def _read(vf: VectorFile, table: str | None, notes: list[str]) -> gpd.GeoDataFrame:
    layers = vf.layers
    if table is None and len(layers) > 1:
        raise InputError(f"文件含多个图层，请指定 table：{', '.join(layers)}",
                         f"The file holds several layers; choose one: {', '.join(layers)}",
                         code="layer.table_required", details={"tables": layers})
    if table is not None and table not in layers:
        raise InputError(f"文件中没有图层 {table}；可选：{', '.join(layers)}",
                         f"No layer {table} in the file", code="layer.table_not_found",
                         details={"tables": layers})
    if not layers:
        raise InputError("文件中没有几何图层", "The file has no geometry layer", code="layer.empty")
    chosen = table or layers[0]
    if table:
        notes.append(f"读取图层 {chosen}")
    return vf.read(chosen)


def _refuse_mojibake(gdf: gpd.GeoDataFrame) -> None:
    """U+FFFD in text means the bytes were decoded with the wrong encoding: never store that."""
    for col in gdf.columns:
        if gdf[col].dtype == object and gdf[col].astype(str).str.contains("\ufffd").any():
            raise InputError(f"字段 {col} 含乱码，请检查编码(.cpg)或上传时指定 encoding",
                             f"Field {col} is garbled; state the encoding", code="file.encoding")


def _map_fields(gdf: gpd.GeoDataFrame, mapping: dict[str, str]) -> gpd.GeoDataFrame:
    missing = [src for src in mapping if src not in gdf.columns]
    if missing:
        raise InputError(f"字段映射中的源字段不存在：{', '.join(missing)}；文件字段："
                         f"{', '.join(c for c in gdf.columns if c != gdf.geometry.name)}",
                         f"Mapped source fields not in the file: {', '.join(missing)}",
                         code="layer.field_map_invalid")
    return gdf.rename(columns=mapping)
