"""Raster layer versions (eco_importance, slope_deg): validated, stored as Cloud-Optimized
GeoTIFFs beside the vector versions, with the same catalogue, activation and rollback.

A GeoTIFF's header can promise far more than its bytes: a sparse, compressed 1 MB file may
declare 200 000 × 200 000 cells. Its size is therefore judged from the header (cells, and
width × height × bands × bytes per cell) before any pixel is read, and a refused raster leaves
nothing behind: no catalogue row, no file. What passes is read in strips of rows, so
validating and hashing it needs a bounded amount of memory whatever its size.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
import shapely
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from spatial.errors import DataError, NotFoundError, TooLargeError
from spatial.layerkinds import RASTER_KINDS, RasterKind
from spatial.store import LayerStore, LayerVersion, SourceMeta
from spatial.validation import ValidationReport

#: Largest raster accepted (cells): a 30 m grid of all Chongqing is ≈ 92 M cells.
MAX_CELLS = 400_000_000
#: Largest raster accepted decoded (width × height × bands × bytes per cell): a 30 m float32
#: grid of all Chongqing is ≈ 370 MB.
MAX_DECODED_BYTES = 512 * 1024 * 1024
#: rows are read this many bytes at a time while a raster is validated and hashed
STRIP_BYTES = 16 * 1024 * 1024


def import_raster(store: LayerStore, kind: str, path: Path, meta: SourceMeta, *,
                  loaded_by: str, activate: bool = False) -> LayerVersion:
    """Validate a GeoTIFF and store it as a COG version of a raster kind (not yet active)."""
    spec = RASTER_KINDS.get(kind)
    if spec is None:
        raise NotFoundError(f"未知栅格图层类型：{kind}", f"Unknown raster kind: {kind}",
                            code="layer.kind_unknown")
    with _open_geotiff(path) as src:
        check_size(src)  # from the header: before a pixel is read or anything is stored
        report, digest, cells = _validate(store, spec, src)
        bbox = list(transform_bounds(src.crs, "EPSG:4326", *src.bounds)) if src.crs else []
        version = digest[:16]
        target = store.home / "layers" / kind / f"{version}.tif"
        staged = None
        if not report.errors and not store.file_verified(kind, version, target):
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{version}.{os.getpid()}.{secrets.token_hex(4)}.tif")
            try:
                rasterio.shutil.copy(src, tmp, driver="COG", compress="DEFLATE")
                staged = store.stage_file(tmp)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
    return store.record_version(kind, version, digest, cells, [round(v, 7) for v in bbox], meta,
                                report, target, loaded_by=loaded_by, activate=activate,
                                detail={"cells": cells}, what=("栅格", "Raster"), staged=staged)


def _open_geotiff(path: Path) -> rasterio.io.DatasetReader:
    try:
        # GeoTIFF only: a VRT (or any other driver) could read local files or URLs
        with rasterio.Env(GDAL_VRT_ENABLE_RAWRASTERBAND="NO", GDAL_HTTP_MAX_RETRY="0"):
            return rasterio.open(path, driver="GTiff")
    except rasterio.errors.RasterioIOError as exc:
        raise DataError("无法读取栅格文件(应为 GeoTIFF)", "Cannot read the raster (GeoTIFF expected)",
                        code="layer.file_unreadable") from exc


def decoded_bytes(src: rasterio.io.DatasetReader) -> int:
    """What the raster's pixels take once decoded, from its header: width × height × the
    bytes per cell of every band."""
    return int(src.width) * int(src.height) * sum(np.dtype(d).itemsize for d in src.dtypes)


def check_size(src: rasterio.io.DatasetReader) -> None:
    """Refuse (TooLargeError, 413) a raster too large to validate, from its header alone."""
    cells, size = int(src.width) * int(src.height), decoded_bytes(src)
    if cells <= MAX_CELLS and size <= MAX_DECODED_BYTES:
        return
    mb = size / (1 << 20)
    raise TooLargeError(
        f"栅格过大：{src.width} × {src.height} 像元、{src.count} 个波段，解码后约 {mb:,.0f} MB，"
        f"超过 {MAX_CELLS // 1_000_000} 百万像元或 {MAX_DECODED_BYTES >> 20} MB 上限，"
        "请分幅或降低分辨率后上传",
        f"The raster is too large: {src.width} x {src.height} cells, {src.count} band(s), "
        f"about {mb:,.0f} MB decoded (limits: {MAX_CELLS // 1_000_000} M cells, "
        f"{MAX_DECODED_BYTES >> 20} MB)",
        code="layer.raster_too_large",
        details={"width": src.width, "height": src.height, "bands": src.count,
                 "decoded_bytes": size, "max_cells": MAX_CELLS,
                 "max_decoded_bytes": MAX_DECODED_BYTES})


def content_digest(path: Path) -> tuple[str, int]:
    """The content sha256 and valid-cell count of a raster file, as recorded when it was
    imported (header, pixels and mask; a COG copy gives the same as its source)."""
    with _open_geotiff(path) as src:
        check_size(src)
        digest = _header_digest(src)
        scan = _scan(src, digest, classes=None)
    return digest.hexdigest(), scan.valid


@dataclass
class _Scan:
    """What one pass over the first band found."""

    valid: int = 0
    minimum: Any = None
    maximum: Any = None
    bad: list[Any] = field(default_factory=list)  # the smallest values outside the classes


def _header_digest(src: rasterio.io.DatasetReader) -> Any:
    digest = hashlib.sha256()
    if src.crs is not None:
        digest.update(src.crs.to_wkt().encode())
    a, b, c, d, e, f = src.transform[:6]
    digest.update(json.dumps([a, b, c, d, e, f, src.width, src.height, src.nodata,
                              str(src.dtypes[0])]).encode())
    return digest


def _scan(src: rasterio.io.DatasetReader, digest: Any, *, classes: set[int] | None) -> _Scan:
    """Hash band 1 (cells with nodata as 0, then the mask) and gather its statistics, reading
    ``STRIP_BYTES`` of rows at a time; the digest equals hashing the whole band at once."""
    out = _Scan()
    rows = max(1, STRIP_BYTES // max(1, src.width * np.dtype(src.dtypes[0]).itemsize))
    masks: list[tuple[np.ndarray, int]] = []  # bit-packed: an eighth of a byte a cell
    for top in range(0, src.height, rows):
        band = src.read(1, masked=True, window=Window(0, top, src.width,
                                                      min(rows, src.height - top)))
        if np.issubdtype(band.dtype, np.floating):
            band = np.ma.masked_invalid(band)  # NaN cells are nodata whatever the header says
        digest.update(np.ascontiguousarray(band.filled(0)).tobytes())
        mask = np.ma.getmaskarray(band)
        masks.append((np.packbits(mask, axis=None), mask.size))
        valid = band.compressed()
        if not valid.size:
            continue
        out.valid += int(valid.size)
        low, high = valid.min(), valid.max()
        out.minimum = low if out.minimum is None else min(out.minimum, low)
        out.maximum = high if out.maximum is None else max(out.maximum, high)
        if classes is not None:
            out.bad = sorted(set(out.bad) | (set(np.unique(valid).tolist()) - classes))[:5]
    for packed, count in masks:
        digest.update(np.unpackbits(packed, count=count).tobytes())  # bytes of 0/1, as bool
    return out


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
    digest = _header_digest(src)
    classes = set(spec.classes) if spec.integer and spec.classes else None
    scan = _scan(src, digest, classes=classes)
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
