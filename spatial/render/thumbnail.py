"""Small PNG pictures of raster windows (data URIs) for findings and map previews."""

from __future__ import annotations

import base64

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.windows import Window

_MAX_PX = 96
#: eco_importance classes 1–3 and a slope ramp, RGBA
_CLASS_COLOURS = {1: (236, 240, 241, 200), 2: (241, 196, 15, 200), 3: (192, 57, 43, 220)}


def thumbnail_png(ds: rasterio.io.DatasetReader, window: Window) -> str:
    """A PNG data URI of the window (at most 96 px a side), classed or stretched."""
    scale = max(window.width, window.height) / _MAX_PX
    out_shape = (max(1, int(window.height / max(scale, 1))), max(1, int(window.width / max(scale, 1))))
    band = ds.read(1, window=window, out_shape=out_shape, masked=True)
    rgba = np.zeros((4, *out_shape), dtype=np.uint8)
    data = np.asarray(band.filled(0))
    if np.issubdtype(data.dtype, np.integer) and data.max(initial=0) <= 3:
        for value, colour in _CLASS_COLOURS.items():
            for i, c in enumerate(colour):
                rgba[i][data == value] = c
    else:  # slope in degrees: white → brown, 45° and above darkest
        t = np.clip(data / 45.0, 0, 1)
        rgba[0] = (255 - 120 * t).astype(np.uint8)
        rgba[1] = (255 - 170 * t).astype(np.uint8)
        rgba[2] = (255 - 215 * t).astype(np.uint8)
        rgba[3] = 200
    rgba[3][np.ma.getmaskarray(band)] = 0
    with MemoryFile() as mem:
        with mem.open(driver="PNG", width=out_shape[1], height=out_shape[0], count=4,
                      dtype="uint8") as dst:
            dst.write(rgba)
        data_png = mem.read()
    return "data:image/png;base64," + base64.b64encode(data_png).decode()


def window_bounds_ll(ds: rasterio.io.DatasetReader, window: Window) -> list[float]:
    """[west, south, east, north] of a window in lon/lat."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import bounds

    b = bounds(window, ds.transform)
    if ds.crs is not None and ds.crs.to_epsg() not in (4326, 4490):
        b = transform_bounds(ds.crs, "EPSG:4326", *b)
    return [round(float(v), 7) for v in b]
