"""Benchmark: a zonal rule on a 30 m raster of ≈ 90 million cells (Chongqing-sized), 1 km² sites.

Builds (once, cached in /tmp) a 9 500 × 9 500 uint8 COG in CGCS2000 / 3° GK CM 108°E with a
smooth class pattern, then times ``zonal_cells`` + share for random 1 km² square sites inside it.
Also times the naive alternative — reading the whole raster for each site, as a script doing
an unwindowed read before masking would — for the ratio (measured with GDAL's block cache warm,
which flatters the naive read). Prints and returns a dict.

Run: ``python -m benchmarks.raster_zonal`` (or via ``python -m benchmarks``).
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box

from spatial.screening.zonal import zonal_cells
from spatial.sites.crs import transform_geometry

SIZE = 9_500
CELL_M = 30.0
CRS = "EPSG:4545"
CACHE = Path("/tmp/redline-bench/cq_30m_classes.tif")
ORIGIN = (500_000 - SIZE * CELL_M / 2, 3_330_000 + SIZE * CELL_M / 2)  # around 108°E, 30°N


def build() -> Path:
    """Write the ≈ 90 M-cell COG (block by block, bounded memory) unless cached."""
    if CACHE.exists():
        return CACHE
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE.with_suffix(".gtiff")
    profile = {"driver": "GTiff", "width": SIZE, "height": SIZE, "count": 1, "dtype": "uint8",
               "crs": CRS, "transform": from_origin(*ORIGIN, CELL_M, CELL_M), "nodata": 0,
               "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE"}
    with rasterio.open(tmp, "w", **profile) as dst:
        for row in range(0, SIZE, 512):
            h = min(512, SIZE - row)
            y = (np.arange(row, row + h)[:, None] / 300.0)
            x = np.arange(SIZE)[None, :] / 370.0
            field = np.sin(x) * np.cos(y) + 0.5 * np.sin(x * 2.3 + y * 1.7)
            classes = np.digitize(field, [-0.4, 0.6]).astype(np.uint8) + 1
            dst.write(classes, 1, window=rasterio.windows.Window(0, row, SIZE, h))
    with rasterio.open(tmp) as src:
        rasterio.shutil.copy(src, CACHE, driver="COG", compress="DEFLATE")
    tmp.unlink()
    return CACHE


def run(n: int = 300, naive_n: int = 3) -> dict[str, float]:
    """Time n windowed zonal shares (p50/p99 ms) and a few whole-raster reads for the ratio."""
    import rasterio.shutil

    path = build()
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    rng = np.random.default_rng(7)
    half = math.sqrt(1e6) / 2
    sites = []
    for _ in range(n):
        x = ORIGIN[0] + rng.uniform(5_000, SIZE * CELL_M - 5_000)
        y = ORIGIN[1] - rng.uniform(5_000, SIZE * CELL_M - 5_000)
        sites.append(transform_geometry(box(x - half, y - half, x + half, y + half), CRS,
                                        "EPSG:4326"))
    del to_ll
    with rasterio.open(path) as ds:
        cells_total = ds.width * ds.height
        for s in sites[:10]:  # warm the GDAL block cache path, not the measurement
            zonal_cells(ds, s)
        times = []
        for s in sites:
            t0 = time.perf_counter()
            cells = zonal_cells(ds, s)
            assert cells is not None
            _ = cells.area_where(cells.values == 3) / cells.total_m2
            times.append((time.perf_counter() - t0) * 1000)
        naive = []
        for _ in range(naive_n):
            t0 = time.perf_counter()
            ds.read(1)
            naive.append((time.perf_counter() - t0) * 1000)
    times.sort()
    out = {"cells": cells_total, "sites": n, "p50_ms": statistics.median(times),
           "p99_ms": times[max(0, int(len(times) * 0.99) - 1)],
           "naive_full_read_ms": statistics.median(naive)}
    out["ratio_vs_full_read"] = out["naive_full_read_ms"] / out["p50_ms"]
    return out


if __name__ == "__main__":
    r = run()
    print(f"zonal share on a {r['cells'] / 1e6:.1f} M-cell 30 m raster, 1 km² sites (n={r['sites']}): "
          f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms; whole-raster read "
          f"{r['naive_full_read_ms']:.0f} ms ({r['ratio_vs_full_read']:.0f}× slower)")
