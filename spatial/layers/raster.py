"""Raster layer versions (eco_importance, slope_deg): validated, stored as Cloud-Optimized
GeoTIFFs beside the vector versions, with the same catalogue, activation and rollback.

The file is read as spatial.layers.rasterfile reads it: its size judged from the header before any
pixel is read, so a refused raster leaves nothing behind (no catalogue row, no file).
"""

from __future__ import annotations

from pathlib import Path

import rasterio
import rasterio.shutil
import shapely
from rasterio.warp import transform_bounds

from spatial.errors import NotFoundError
from spatial.layers.kinds import RASTER_KINDS, RasterKind
from spatial.layers.rasterfile import check_size, header_digest, open_geotiff, scan_band
from spatial.layers.store import LayerStore, LayerVersion, SourceMeta
from spatial.layers.validation import ValidationReport


def import_raster(store: LayerStore, kind: str, path: Path, meta: SourceMeta, *,
                  loaded_by: str, activate: bool = False) -> LayerVersion:
    """Validate a GeoTIFF and store it as a COG version of a raster kind (not yet active)."""
    spec = RASTER_KINDS.get(kind)
    if spec is None:
        raise NotFoundError(f"未知栅格图层类型：{kind}", f"Unknown raster kind: {kind}",
                            code="layer.kind_unknown")
    with open_geotiff(path) as src:
        check_size(src)  # from the header: before a pixel is read or anything is stored
        report, digest, cells = _validate(store, spec, src)
        bbox = list(transform_bounds(src.crs, "EPSG:4326", *src.bounds)) if src.crs else []
        version = digest[:16]
        target = store.home / "layers" / kind / f"{version}.tif"
        staged = None
        if not report.errors and not store.file_verified(kind, version, target):
            staged = store.stage(target, lambda tmp: rasterio.shutil.copy(
                src, tmp, driver="COG", compress="DEFLATE"))
    return store.record_version(kind, version, digest, cells, [round(v, 7) for v in bbox], meta,
                                report, target, loaded_by=loaded_by, activate=activate,
                                detail={"cells": cells}, what=("栅格", "Raster"), staged=staged)


def _validate(store: LayerStore, spec: RasterKind,
              src: rasterio.io.DatasetReader) -> tuple[ValidationReport, str, int]:
    report = ValidationReport(feature_count=src.width * src.height)
    if src.crs is None:
        report.errors.append("栅格没有坐标系信息 (no CRS)")
    else:
        report.source_crs = src.crs.to_string()
    if src.count != 1:
        report.errors.append(f"栅格应为单波段，实际 {src.count} 个波段")
    if src.nodata is None:
        report.warnings.append("栅格未设置 nodata，所有像元均视为有效值")
    a, b, _c, d, e, _f = src.transform[:6]
    if b or d:
        report.errors.append("栅格须为正北方向(无旋转)")
    digest = header_digest(src)
    classes = set(spec.classes) if spec.integer and spec.classes else None
    scan = scan_band(src, digest, classes=classes)
    if scan.valid == 0:
        report.errors.append("栅格没有有效像元")
    elif classes is not None:
        if scan.bad:
            report.errors.append(f"像元值 {scan.bad[:5]} 不在 {spec.title_zh} 的类别 "
                                 f"{sorted(classes)} 之内")
    elif scan.minimum < spec.minimum or scan.maximum > spec.maximum:
        report.errors.append(f"像元值范围 {float(scan.minimum):g}–{float(scan.maximum):g} 超出 "
                             f"{spec.minimum:g}–{spec.maximum:g}")
    if src.crs is not None:
        _check_extent(store, src, report)
    res_note = f"分辨率 {abs(a):g} × {abs(e):g}({src.crs.linear_units if src.crs else '?'})"
    report.warnings.append(res_note)
    return report, digest.hexdigest(), scan.valid


def _check_extent(store: LayerStore, src: rasterio.io.DatasetReader,
                  report: ValidationReport) -> None:
    active = store.active_versions().get("admin_district")
    if active is None:
        return
    region = shapely.union_all(store.read(active).geometry.values)
    footprint = shapely.box(*transform_bounds(src.crs, "EPSG:4326", *src.bounds))
    if not footprint.intersects(region):
        report.outside_region = 1
        report.errors.append("栅格范围完全位于重庆市之外(请检查坐标系)")
    elif not region.envelope.buffer(0.5).covers(footprint):
        report.partly_outside_region = 1
        report.warnings.append("栅格范围超出重庆市")
