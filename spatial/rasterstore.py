"""Raster layer versions (eco_importance, slope_deg): validated, stored as Cloud-Optimized
GeoTIFFs beside the vector versions, with the same catalogue, activation and rollback."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
import shapely
from rasterio.warp import transform_bounds

from spatial.errors import DataError, NotFoundError
from spatial.layerkinds import RASTER_KINDS, RasterKind
from spatial.store import LayerStore, LayerVersion, SourceMeta
from spatial.validation import ValidationReport

#: Largest raster accepted (cells): a 30 m grid of all Chongqing is ≈ 92 M cells.
MAX_CELLS = 400_000_000


def import_raster(store: LayerStore, kind: str, path: Path, meta: SourceMeta, *,
                  loaded_by: str, activate: bool = False) -> LayerVersion:
    """Validate a GeoTIFF and store it as a COG version of a raster kind (not yet active)."""
    spec = RASTER_KINDS.get(kind)
    if spec is None:
        raise NotFoundError(f"未知栅格图层类型：{kind}", f"Unknown raster kind: {kind}",
                            code="layer.kind_unknown")
    try:
        # GeoTIFF only: a VRT (or any other driver) could read local files or URLs
        with rasterio.Env(GDAL_VRT_ENABLE_RAWRASTERBAND="NO", GDAL_HTTP_MAX_RETRY="0"):
            src = rasterio.open(path, driver="GTiff")
    except rasterio.errors.RasterioIOError as exc:
        raise DataError("无法读取栅格文件(应为 GeoTIFF)", "Cannot read the raster (GeoTIFF expected)",
                        code="layer.file_unreadable") from exc
    with src:
        if src.width * src.height > MAX_CELLS:
            raise DataError(f"栅格超过 {MAX_CELLS // 1_000_000} 百万个像元上限，请分幅或降低分辨率后上传",
                            "The raster has too many cells", code="layer.raster_too_large")
        report, digest, cells = _validate(store, spec, src)
        bbox = list(transform_bounds(src.crs, "EPSG:4326", *src.bounds)) if src.crs else []
        version = digest[:16]
        target = store.home / "layers" / kind / f"{version}.tif"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not report.errors and not target.exists():
            tmp = target.with_name(f".{version}.{os.getpid()}.{secrets.token_hex(4)}.tif")
            rasterio.shutil.copy(src, tmp, driver="COG", compress="DEFLATE")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
    return store.record_version(kind, version, digest, cells, [round(v, 7) for v in bbox], meta,
                                report, target, loaded_by=loaded_by, activate=activate,
                                detail={"cells": cells}, what=("栅格", "Raster"))


def _validate(store: LayerStore, spec: RasterKind,
              src: rasterio.io.DatasetReader) -> tuple[ValidationReport, str, int]:
    report = ValidationReport(feature_count=src.width * src.height)
    digest = hashlib.sha256()
    if src.crs is None:
        report.errors.append("栅格没有坐标系信息 (no CRS)")
    else:
        report.source_crs = src.crs.to_string()
        digest.update(src.crs.to_wkt().encode())
    if src.count != 1:
        report.errors.append(f"栅格应为单波段，实际 {src.count} 个波段")
    if src.nodata is None:
        report.warnings.append("栅格未设置 nodata，所有像元均视为有效值")
    a, b, c, d, e, f = src.transform[:6]
    if b or d:
        report.errors.append("栅格须为正北方向(无旋转)")
    digest.update(json.dumps([a, b, c, d, e, f, src.width, src.height, src.nodata,
                              str(src.dtypes[0])]).encode())
    band = src.read(1, masked=True)
    if np.issubdtype(band.dtype, np.floating):
        band = np.ma.masked_invalid(band)  # NaN cells are nodata whatever the header says
    digest.update(np.ascontiguousarray(band.filled(0)).tobytes())
    digest.update(np.ascontiguousarray(np.ma.getmaskarray(band)).tobytes())
    valid = band.compressed()
    if valid.size == 0:
        report.errors.append("栅格没有有效像元")
    else:
        if spec.integer and spec.classes:
            bad = sorted(set(np.unique(valid).tolist()) - set(spec.classes))
            if bad:
                report.errors.append(f"像元值 {bad[:5]} 不在 {spec.title_zh} 的类别 "
                                     f"{sorted(spec.classes)} 之内")
        elif valid.min() < spec.minimum or valid.max() > spec.maximum:
            report.errors.append(f"像元值范围 {float(valid.min()):g}–{float(valid.max()):g} 超出 "
                                 f"{spec.minimum:g}–{spec.maximum:g}")
    if src.crs is not None:
        _check_extent(store, src, report)
    res_note = f"分辨率 {abs(a):g} × {abs(e):g}({src.crs.linear_units if src.crs else '?'})"
    report.warnings.append(res_note)
    return report, digest.hexdigest(), int(valid.size)


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
