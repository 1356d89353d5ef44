"""Build the demo rasters (clearly ``demo: true``) for the zonal rules, reproducibly.

- ``data/rasters/eco_importance.tif``: 生态保护重要性 classes consistent with the shipped
  illustrative layers — 3 极重要 inside the red line and the reserve's core/buffer zones,
  2 重要 in general ecological space, the 四山 zones and other protected areas, 1 一般 elsewhere;
  nodata outside Chongqing.
- ``data/rasters/slope_deg.tif``: slope in degrees of a synthetic but plausible terrain: the
  parallel NNE–SSW anticline ridges of the main city (缙云山, 中梁山, 铜锣山, 明月山), each a
  steep-flanked ridge along the axis of its 四山 no-build zone, on a gently rolling 250 m
  plain. Slope is computed in metres (cell sizes from the latitude), never in degrees.

Run: ``python scripts/build_demo_rasters.py`` (after python -m scripts.demo_data).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

DATA = Path(__file__).resolve().parents[1] / "data"
WEST, NORTH, EAST, SOUTH = 106.20, 29.95, 106.80, 29.35
CELL = 0.0003  # ≈ 29 m east–west, 33 m north–south at 29.6°N
RIDGE_HEIGHT_M = 550.0
RIDGE_SIGMA_M = 700.0


def grid() -> tuple[rasterio.Affine, int, int]:
    width = round((EAST - WEST) / CELL)
    height = round((NORTH - SOUTH) / CELL)
    return from_origin(WEST, NORTH, CELL, CELL), width, height


def eco_importance(transform: rasterio.Affine, width: int, height: int) -> np.ndarray:
    red = gpd.read_file(DATA / "redlines" / "eco_redline.geojson")
    pa = gpd.read_file(DATA / "redlines" / "protected_area.geojson")
    ges = gpd.read_file(DATA / "redlines" / "general_eco_space.geojson")
    fm = gpd.read_file(DATA / "redlines" / "four_mountains.geojson")
    admin = gpd.read_file(DATA / "boundaries" / "admin_district.geojson")
    shape = (height, width)
    extreme = [*red.geometry, *pa[pa["zone"].isin(["core", "buffer"])].geometry]
    important = [*ges.geometry, *fm.geometry, *pa[~pa["zone"].isin(["core", "buffer"])].geometry]
    out = np.ones(shape, dtype=np.uint8)
    out[rasterize(((g, 1) for g in important), out_shape=shape, transform=transform) == 1] = 2
    out[rasterize(((g, 1) for g in extreme), out_shape=shape, transform=transform) == 1] = 3
    inside = rasterize(((g, 1) for g in admin.geometry), out_shape=shape, transform=transform)
    out[inside == 0] = 0  # nodata outside Chongqing
    return out


def ridge_axes() -> list[tuple[np.ndarray, np.ndarray]]:
    """Each mountain's axis: the long centre line of its no-build zone's rotated rectangle."""
    fm = gpd.read_file(DATA / "redlines" / "four_mountains.geojson")
    axes = []
    for _, zone in fm[fm["zone"] == "no_build"].groupby("mountain"):
        rect = shapely.minimum_rotated_rectangle(shapely.union_all(zone.geometry.values))
        xy = np.asarray(rect.exterior.coords)[:4]
        edges = [(xy[i], xy[(i + 1) % 4]) for i in range(4)]
        short = sorted(edges, key=lambda e: np.hypot(*(e[1] - e[0])))[:2]
        a, b = ((short[0][0] + short[0][1]) / 2, (short[1][0] + short[1][1]) / 2)
        axes.append((a, b))
    return axes


def slope(transform: rasterio.Affine, width: int, height: int) -> np.ndarray:
    lat0 = (NORTH + SOUTH) / 2
    m_per_deg_y = 110_950.0
    m_per_deg_x = 111_320.0 * np.cos(np.radians(lat0))
    cols = WEST + (np.arange(width) + 0.5) * CELL
    rows = NORTH - (np.arange(height) + 0.5) * CELL
    lon, lat = np.meshgrid(cols, rows)
    x, y = lon * m_per_deg_x, lat * m_per_deg_y
    # a gently rolling plain (long-wave undulation, a few degrees at most) between the ridges
    dem = 250.0 + 20 * np.sin(x / 2500.0) * np.cos(y / 3100.0)
    for a, b in ridge_axes():
        ax, ay = a[0] * m_per_deg_x, a[1] * m_per_deg_y
        bx, by = b[0] * m_per_deg_x, b[1] * m_per_deg_y
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = np.clip(((x - ax) * dx + (y - ay) * dy) / length2, 0, 1)
        d = np.hypot(x - (ax + t * dx), y - (ay + t * dy))
        taper = np.clip(np.minimum(t, 1 - t) * 8, 0, 1)  # ridges fade out at their ends
        dem += RIDGE_HEIGHT_M * taper * np.exp(-((d / RIDGE_SIGMA_M) ** 2))
    gy, gx = np.gradient(dem, CELL * m_per_deg_y, CELL * m_per_deg_x)
    deg = np.degrees(np.arctan(np.hypot(gx, gy)))
    return np.round(deg, 1).astype(np.float32)


def write(path: Path, data: np.ndarray, transform: rasterio.Affine, nodata: float | int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "COG", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype.name, "crs": "EPSG:4326", "transform": transform,
               "nodata": nodata, "compress": "DEFLATE"}
    with rasterio.MemoryFile() as mem:
        gtiff = {**profile, "driver": "GTiff"}
        with mem.open(**gtiff) as tmp:
            tmp.write(data, 1)
        with mem.open() as src:
            rasterio.shutil.copy(src, path, driver="COG", compress="DEFLATE",
                                 predictor=3 if data.dtype.kind == "f" else 2)
    print(f"{path.relative_to(DATA.parent)}: {data.shape[1]}×{data.shape[0]} cells, "
          f"{path.stat().st_size / 1e6:.1f} MB")


MANIFEST = """# Demo rasters; rebuilt by scripts/build_demo_rasters.py — do not edit by hand.
# demo: true — ILLUSTRATIVE, derived from the illustrative layers and a synthetic terrain.
layers:
- kind: eco_importance
  file: rasters/eco_importance.tif
  title: 生态保护重要性评价（示意，由示意红线与保护地推算）
  publisher: redline project (illustrative demo data, not an official assessment)
  date: '2026-11-21'
  licence: Invented by this project; same licence as the repository
  source_crs: EPSG:4326
  accuracy_m: 30.0
  demo: true
  coverage_adcodes: ['500106']
  notes: 3 极重要 = red line + reserve core/buffer; 2 重要 = general eco space, 四山 zones, other
    protected areas; 1 一般 elsewhere; 0.0003° cells; nodata outside Chongqing.
- kind: slope_deg
  file: rasters/slope_deg.tif
  title: 坡度（示意，主城“四山”背斜山脊合成地形）
  publisher: redline project (synthetic terrain, not a DEM)
  date: '2026-11-21'
  licence: Invented by this project; same licence as the repository
  source_crs: EPSG:4326
  accuracy_m: 30.0
  demo: true
  coverage_adcodes: ['500106', '500103', '500104', '500107']
  notes: Synthetic NNE–SSW ridges along the 四山 no-build axes (550 m high, σ 700 m) on a rolling
    plain; slope in degrees from metre cell sizes; 0.0003° cells; nodata outside Chongqing.
"""


def main() -> None:
    import rasterio.shutil  # noqa: F401 - registers rasterio.shutil for write()

    transform, width, height = grid()
    eco = eco_importance(transform, width, height)
    write(DATA / "rasters" / "eco_importance.tif", eco, transform, 0)
    sl = slope(transform, width, height)
    sl[eco == 0] = -1  # nodata outside Chongqing
    write(DATA / "rasters" / "slope_deg.tif", sl, transform, -1)
    (DATA / "rasters.yaml").write_text(MANIFEST, encoding="utf-8")
    steep = (sl > 25).sum() / (sl >= 0).sum()
    print(f"classes 1/2/3: {[(int((eco == c).sum())) for c in (1, 2, 3)]}; "
          f"slope > 25°: {steep:.1%} of valid cells; max {sl.max():.1f}°")


if __name__ == "__main__":
    main()
