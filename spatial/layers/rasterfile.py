"""Reading a raster layer file: a GeoTIFF opened with the GeoTIFF driver only, its size judged
from the header before any pixel is read, and its content hashed strip by strip.

A GeoTIFF's header can promise far more than its bytes: a sparse, compressed 1 MB file may
declare 200 000 × 200 000 cells. Its size is therefore judged from the header (cells, and
width × height × bands × bytes per cell) before any pixel is read. What passes is read in
strips of rows, so validating and hashing it needs a bounded amount of memory whatever its
size. Used by the raster import (spatial.layers.raster) and by the store's file checks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window

from spatial.errors import DataError, TooLargeError

#: Largest raster accepted (cells): a 30 m grid of all Chongqing is ≈ 92 M cells.
MAX_CELLS = 400_000_000
#: Largest raster accepted decoded (width × height × bands × bytes per cell): a 30 m float32
#: grid of all Chongqing is ≈ 370 MB.
MAX_DECODED_BYTES = 512 * 1024 * 1024
#: rows are read this many bytes at a time while a raster is validated and hashed
STRIP_BYTES = 16 * 1024 * 1024


def open_geotiff(path: Path) -> rasterio.io.DatasetReader:
    """The file opened as a GeoTIFF (no other driver: a VRT could read local files or URLs);
    DataError (4xx) when it is not one."""
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
    with open_geotiff(path) as src:
        check_size(src)
        digest = header_digest(src)
        scan = scan_band(src, digest, classes=None)
    return digest.hexdigest(), scan.valid


@dataclass
class Scan:
    """What one pass over the first band found."""

    valid: int = 0
    minimum: Any = None
    maximum: Any = None
    bad: list[Any] = field(default_factory=list)  # the smallest values outside the classes


def header_digest(src: rasterio.io.DatasetReader) -> Any:
    """A sha256 fed with what the header says (CRS, transform, size, nodata, type); the
    pixels follow (``scan_band``)."""
    digest = hashlib.sha256()
    if src.crs is not None:
        digest.update(src.crs.to_wkt().encode())
    a, b, c, d, e, f = src.transform[:6]
    digest.update(json.dumps([a, b, c, d, e, f, src.width, src.height, src.nodata,
                              str(src.dtypes[0])]).encode())
    return digest


def scan_band(src: rasterio.io.DatasetReader, digest: Any, *, classes: set[int] | None) -> Scan:
    """Hash band 1 (cells with nodata as 0, then the mask) and gather its statistics, reading
    ``STRIP_BYTES`` of rows at a time; the digest equals hashing the whole band at once."""
    out = Scan()
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
