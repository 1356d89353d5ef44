"""Raster layers and zonal rules: known answers on hand-made grids, nodata never passes, each
raster rule fires at its trigger and not one cell outside, and raster versions are uploaded,
activated and rolled back like vector layers."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from rasterio.transform import from_origin
from shapely.geometry import box

from app.cli import main
from app.main import create_app
from app.settings import Settings
from spatial.layers.layerset import RasterLayer
from spatial.layers.store import LayerVersion, SourceMeta
from spatial.project import Project
from spatial.ruleset import load_ruleset
from spatial.screening.evaluation import screen
from spatial.screening.zonal import zonal_cells
from spatial.sites.site import build_site
from spatial.tokens import TokenStore
from tests import synth

RULES = load_ruleset(Path(__file__).resolve().parents[1] / "rules")
X0, Y0, CELL = 106.30, 29.65, 0.001  # 10 × 10 grid, north-west corner


def write_tif(path: Path, data: np.ndarray, *, nodata: float | None = 0,
              origin: tuple[float, float] = (X0, Y0), cell: float = CELL) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype=data.dtype.name, crs="EPSG:4326",
                       transform=from_origin(*origin, cell, cell), nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def raster_layer(kind: str, data: np.ndarray, nodata: float | None = 0) -> RasterLayer:
    path = write_tif(Path(tempfile.mkdtemp()) / f"{kind}.tif", data, nodata=nodata)
    lv = LayerVersion(kind, f"{kind}-test", "0" * 64, data.size, [], SourceMeta(title=kind), {},
                      path, "test", "2026-01-01T00:00:00Z")
    return RasterLayer(lv, rasterio.open(path))


def cell_box(c0: float, r0: float, c1: float, r1: float):
    """A lon/lat box from fractional cell coordinates (columns east, rows south)."""
    return box(X0 + c0 * CELL, Y0 - r1 * CELL, X0 + c1 * CELL, Y0 - r0 * CELL)


def test_37_percent_on_class_3_with_partial_cells():
    """Class 3 in columns 0–3; a polygon from column 1.3 to 8.597 (rows 2.4–7.8) has exactly
    (4 − 1.3) / 7.297 = 37 % of its area on class 3, with partial cells on every side."""
    data = np.ones((10, 10), dtype=np.uint8)
    data[:, :4] = 3
    lay = raster_layer("eco_importance", data)
    site = cell_box(1.3, 2.4, 1.3 + 2.7 / 0.37, 7.8)
    cells = zonal_cells(lay.dataset, site)
    assert cells is not None
    share = cells.area_where(cells.values == 3) / cells.total_m2
    assert share == pytest.approx(0.37, abs=0.005)
    from spatial.geodesy import geodesic_area
    assert cells.total_m2 == pytest.approx(geodesic_area(site), rel=1e-4)  # metres, not degrees


def test_small_raster_read_whole_gives_the_cells_of_windowed_reads(monkeypatch):
    """Rasters up to WHOLE_MAX_CELLS are read once and sliced: the same values, nodata and
    cell areas as reading each site's window from the file."""
    from spatial.screening import zonal

    rng = np.random.default_rng(3)
    data = rng.integers(0, 5, size=(10, 10)).astype(np.uint8)  # 0 = nodata
    lay = raster_layer("eco_importance", data)
    sites = [cell_box(1.3, 2.4, 8.6, 7.8), cell_box(0, 0, 1, 1), cell_box(6.5, 8.2, 9.9, 9.9)]
    whole = [zonal_cells(lay.dataset, s) for s in sites]
    monkeypatch.setattr(zonal, "WHOLE_MAX_CELLS", 0)
    monkeypatch.setattr(zonal, "_ROW_AREAS", {})
    windowed = [zonal_cells(lay.dataset, s) for s in sites]
    for a, b in zip(whole, windowed, strict=True):
        assert a is not None and b is not None
        for field in ("values", "valid", "area_m2"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert any((~c.valid).any() for c in whole if c is not None)


def test_cell_areas_are_true_metres_and_shrink_with_latitude():
    data = np.ones((10, 10), dtype=np.uint8)
    lay = raster_layer("eco_importance", data)
    north = zonal_cells(lay.dataset, cell_box(0, 0, 1, 1))
    south = zonal_cells(lay.dataset, cell_box(0, 9, 1, 10))
    assert north is not None and south is not None
    # 0.001° × 0.001° at 29.65°N ≈ 96.8 m × 110.9 m
    assert north.total_m2 == pytest.approx(96.8 * 110.9, rel=0.01)
    assert north.total_m2 < south.total_m2  # further north, narrower cells


def _world(*rasters: RasterLayer, geohazard: bool = False):
    layers = [synth.district_layer()]
    if geohazard:
        layers.append(synth.layer("geohazard", [(synth.FRAME.to_local(cell_box(0, 0, 10, 5)),
                                                 {"hazard": "landslide"})]))
    ls = synth.layerset(*layers)
    ls.rasters = {r.kind: r for r in rasters}
    return ls


def _run(rule_id: str, site, world, project: dict) -> dict:
    rule = next(r for r in RULES.rules if r.id == rule_id)
    rs = dataclasses.replace(RULES, rules=(rule,))
    return screen(build_site(site), Project.from_dict(project, RULES.catalogue), world,
                  rs).as_doc()


def test_site_entirely_on_nodata_is_indeterminate_not_pass():
    data = np.zeros((10, 10), dtype=np.uint8)  # all nodata
    doc = _run("eco-importance-extreme-share", cell_box(2, 2, 5, 5),
               _world(raster_layer("eco_importance", data)), {"industry": "K7010", "nature": "new"})
    assert doc["verdict"] == "indeterminate"
    assert doc["not_evaluated"][0]["code"] == "layer_incomplete"


def test_site_outside_the_raster_is_indeterminate():
    data = np.full((10, 10), 3, dtype=np.uint8)
    far = box(X0 + 0.05, Y0 - 0.02, X0 + 0.06, Y0 - 0.01)
    doc = _run("eco-importance-extreme-share", far, _world(raster_layer("eco_importance", data)),
               {"industry": "K7010", "nature": "new"})
    assert doc["verdict"] == "indeterminate"


@pytest.mark.parametrize(("rule_id", "kind", "hit_value", "project", "geohazard"), [
    ("eco-importance-extreme-share", "eco_importance", 3, {"industry": "K7010", "nature": "new"},
     False),
    ("slope-steep-construction-share", "slope_deg", 30.0, {"industry": "K7010", "nature": "new"},
     False),
    ("slope-quarrying-in-geohazard-ban", "slope_deg", 30.0, {"industry": "B1019", "nature": "new"},
     True),
])
def test_raster_rule_fires_on_its_cells_and_not_one_cell_outside(rule_id, kind, hit_value,
                                                                  project, geohazard):
    """Columns 0–4 meet the condition (class 3 / 30°), columns 5–9 do not (class 1 / 10°)."""
    dtype = np.uint8 if kind == "eco_importance" else np.float32
    data = np.full((10, 10), 1 if kind == "eco_importance" else 10.0, dtype=dtype)
    data[:, :5] = hit_value
    world = _world(raster_layer(kind, data, nodata=0 if kind == "eco_importance" else -1),
                   geohazard=geohazard)
    rule = next(r for r in RULES.rules if r.id == rule_id)
    on = _run(rule_id, cell_box(1, 1, 4, 4), world, project)
    f = next(x for x in on["findings"] if x["rule_id"] == rule_id)
    assert f["verdict"] == rule.verdict and f["measure"]["share"] == pytest.approx(1.0)
    assert f["measure"]["cell_size_m"] > 90 and f["thumbnail"].startswith("data:image/png;base64,")
    off = _run(rule_id, cell_box(6, 1, 9, 4), world, project)  # one cell east of the boundary
    assert not any(x["rule_id"] == rule_id for x in off["findings"])
    assert off["verdict"] == "pass"


def test_quarrying_rule_ignores_steep_cells_outside_geohazard_zones():
    data = np.full((10, 10), 30.0, dtype=np.float32)  # steep everywhere
    world = _world(raster_layer("slope_deg", data, nodata=-1), geohazard=True)  # rows 0–4 only
    doc = _run("slope-quarrying-in-geohazard-ban", cell_box(2, 6, 5, 9), world,
               {"industry": "B1019", "nature": "new"})
    assert doc["verdict"] == "pass"


def test_demo_rasters_drive_findings_on_the_demo_data(runtime):
    from spatial.service import ScreeningRequest

    doc = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Point", "coordinates": [106.312309, 29.728557]}, radius_m=200,
        project={"industry": "K7010", "nature": "new"}))
    f = next(x for x in doc["findings"] if x["rule_id"] == "eco-importance-extreme-share")
    assert f["measure"]["share"] > 0.9 and f["layer"]["kind"] == "eco_importance"
    kinds = {lay["kind"] for lay in doc["layers"]}
    assert {"eco_importance", "slope_deg"} <= kinds


def test_raster_upload_activate_rollback_via_api_and_cli(fresh_home, tmp_path, monkeypatch, capsys):
    app = create_app(Settings(home=tmp_path / "home", anonymous_rate_per_minute=0))
    store = app.state.runtime.store
    token, _ = TokenStore(store).create("管理员", "gis_admin")
    h = {"Authorization": f"Bearer {token}"}
    old = store.active_versions()["eco_importance"].version
    data = np.full((20, 20), 2, dtype=np.uint8)
    tif = write_tif(tmp_path / "eco.tif", data)
    with TestClient(app) as c:
        r = c.post("/api/v1/layers/eco_importance/versions", headers=h,
                   files={"file": ("eco.tif", tif.read_bytes())},
                   data={"accuracy_m": "30", "title": "测试评价"})
        assert r.status_code == 201, r.text
        new = r.json()["version"]["version"]
        assert c.post("/api/v1/layers/eco_importance/activate", json={"version": new},
                      headers=h).json()["active"] == new
        assert c.post("/api/v1/layers/eco_importance/rollback", headers=h).json()["active"] == old
        bad = write_tif(tmp_path / "bad.tif", np.full((5, 5), 7, dtype=np.uint8))
        r = c.post("/api/v1/layers/eco_importance/versions", headers=h,
                   files={"file": ("bad.tif", bad.read_bytes())},
                   data={"accuracy_m": "30", "title": "坏数据"})
        assert r.status_code == 422 and "7" in " ".join(r.json()["details"]["report"]["errors"])
    monkeypatch.setenv("REDLINE_HOME", str(tmp_path / "home"))
    slope = write_tif(tmp_path / "slope.tif", np.full((20, 20), 12.5, dtype=np.float32), nodata=-1)
    assert main(["layers", "import", "slope_deg", str(slope), "--accuracy-m", "30",
                 "--source-title", "测试坡度", "--activate"]) == 0
    capsys.readouterr()
    assert main(["layers", "rollback", "slope_deg"]) == 0
    assert "已回滚" in capsys.readouterr().out


def test_map_preview_shows_the_raster_thumbnail(client):
    doc = client.post("/api/v1/screenings", json={
        "site": {"type": "Point", "coordinates": [106.312309, 29.728557]}, "radius_m": 200,
        "project": {"industry": "K7010", "nature": "new"}}).json()
    f = next(x for x in doc["findings"] if x["rule_id"] == "eco-importance-extreme-share")
    assert len(f["thumbnail_bounds"]) == 4
    html = client.get(doc["links"]["map"]).text
    data = json.loads(html.split("<script type='application/json' id='map-data'>")[1]
                      .split("</script>")[0])
    images = [o["image"] for o in data["overlays"] if o.get("image")]
    assert images and images[0]["url"].startswith("data:image/png;base64")
    assert "L.imageOverlay(overlay.image.url" in client.get("/static/mapview.js").text


def test_part_of_site_beyond_the_raster_is_unknown_not_ignored():
    """A flat raster ending half-way across the site cannot pass it; a steep one reports the
    share of the whole site (≈ 50 %), not 100 % of the covered half."""
    flat = np.full((10, 10), 10.0, dtype=np.float32)
    site = cell_box(7, 2, 13, 6)  # columns 10–13 lie beyond the raster
    doc = _run("slope-steep-construction-share", site,
               _world(raster_layer("slope_deg", flat, nodata=-1)),
               {"industry": "K7010", "nature": "new"})
    assert doc["verdict"] == "indeterminate"
    steep = np.full((10, 10), 30.0, dtype=np.float32)
    doc = _run("slope-steep-construction-share", site,
               _world(raster_layer("slope_deg", steep, nodata=-1)),
               {"industry": "K7010", "nature": "new"})
    f = doc["findings"][0]
    assert f["measure"]["share"] == pytest.approx(0.5, abs=0.01)


def test_nan_cells_are_nodata_even_without_a_nodata_value():
    data = np.full((10, 10), np.nan, dtype=np.float32)
    data[:, :1] = 40.0
    doc = _run("slope-steep-construction-share", cell_box(0, 2, 8, 6),
               _world(raster_layer("slope_deg", data, nodata=None)),
               {"industry": "K7010", "nature": "new"})
    assert doc["verdict"] == "indeterminate"


def test_rasters_of_different_shape_get_different_versions(tmp_path):
    from spatial.layers.raster import import_raster
    from spatial.layers.store import LayerStore

    store = LayerStore(tmp_path / "home")
    a = write_tif(tmp_path / "a.tif", np.full((10, 40), 2, dtype=np.uint8))
    b = write_tif(tmp_path / "b.tif", np.full((40, 10), 2, dtype=np.uint8))
    meta = SourceMeta(title="t", accuracy_m=30)
    va = import_raster(store, "eco_importance", a, meta, loaded_by="t")
    vb = import_raster(store, "eco_importance", b, meta, loaded_by="t")
    assert va.version != vb.version


def test_vrt_disguised_as_tif_is_refused(tmp_path):
    from spatial.errors import DataError
    from spatial.layers.raster import import_raster
    from spatial.layers.store import LayerStore

    vrt = tmp_path / "x.tif"
    vrt.write_text('<VRTDataset rasterXSize="4" rasterYSize="1"><VRTRasterBand dataType="Byte" '
                   'band="1" subClass="VRTRawRasterBand"><SourceFilename>/etc/passwd'
                   '</SourceFilename></VRTRasterBand></VRTDataset>')
    with pytest.raises(DataError):
        import_raster(LayerStore(tmp_path / "home"), "eco_importance", vrt,
                      SourceMeta(title="t", accuracy_m=30), loaded_by="t")


def test_thin_long_site_stays_bounded():
    """A long thin corridor only builds geometry for the cells it touches."""
    import time

    data = np.ones((2000, 2000), dtype=np.uint8)
    lay = raster_layer("eco_importance", data)
    from shapely.geometry import LineString
    line = LineString([(X0, Y0), (X0 + 2000 * CELL, Y0 - 2000 * CELL)]).buffer(CELL / 10)
    t0 = time.monotonic()
    cells = zonal_cells(lay.dataset, line)
    assert cells is not None and time.monotonic() - t0 < 5


@pytest.mark.parametrize("flip", ["north_up", "south_up", "east_to_west"])
def test_quick_off_raster_test_holds_whichever_way_the_grid_runs(tmp_path, flip):
    """``misses`` (the quick 'site is off the raster' answer) never claims a site the raster
    covers, for grids stored south-up or east-to-west too; far-off sites are answered."""
    from rasterio.transform import Affine

    from spatial.screening.zonal import misses

    t = {"north_up": Affine(CELL, 0, X0, 0, -CELL, Y0),
         "south_up": Affine(CELL, 0, X0, 0, CELL, Y0 - 10 * CELL),
         "east_to_west": Affine(-CELL, 0, X0 + 10 * CELL, 0, -CELL, Y0)}[flip]
    path = tmp_path / f"{flip}.tif"
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=t) as dst:
        dst.write(np.ones((10, 10), dtype=np.uint8), 1)
    with rasterio.open(path) as ds:
        assert not misses(ds, cell_box(2, 2, 5, 5))  # inside
        assert not misses(ds, cell_box(10.5, 2, 10.8, 3))  # within a cell of the edge
        assert misses(ds, box(X0 + 0.05, Y0 - 0.02, X0 + 0.06, Y0 - 0.01))
