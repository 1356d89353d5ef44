"""Layer management through the API: authorisation, validated uploads, activation, rollback,
change impact, audit — each test on its own throwaway data directory."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Polygon, box

from app.main import create_app
from app.settings import Settings
from spatial.tokens import TokenStore

CLEAR_SPB = (106.332299, 29.557251)  # passes for housing on the demo data
NEW_RED = box(CLEAR_SPB[0] - 0.004, CLEAR_SPB[1] - 0.004, CLEAR_SPB[0] + 0.004, CLEAR_SPB[1] + 0.004)


@pytest.fixture
def api(fresh_home, tmp_path):
    app = create_app(Settings(home=tmp_path / "home", anonymous_rate_per_minute=0))
    store = app.state.runtime.store
    admin, _ = TokenStore(store).create("管理员", "gis_admin")
    reviewer, _ = TokenStore(store).create("审批员", "reviewer")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.admin = {"Authorization": f"Bearer {admin}"}  # type: ignore[attr-defined]
        client.reviewer = {"Authorization": f"Bearer {reviewer}"}  # type: ignore[attr-defined]
        yield client


def _redline_with_new_polygon(runtime, tmp_path: Path) -> Path:
    active = runtime.store.active_versions()["eco_redline"]
    gdf = runtime.store.read(active)
    extra = gpd.GeoDataFrame({"name": ["新增红线（测试）"], "code": ["HX-TEST-1"]},
                             geometry=[NEW_RED], crs="EPSG:4326")
    out = tmp_path / "redline_v2.geojson"
    gpd.GeoDataFrame(
        __import__("pandas").concat([gdf, extra], ignore_index=True), crs="EPSG:4326"
    ).to_file(out, driver="GeoJSON")
    return out


def _upload(api, kind: str, path: Path, headers=None, **fields):
    data = {"accuracy_m": "10", "title": "测试版本", **fields}
    return api.post(f"/api/v1/layers/{kind}/versions", files={"file": (path.name, path.read_bytes())},
                    data=data, headers=headers if headers is not None else api.admin)


def _screen(api, lonlat=CLEAR_SPB):
    return api.post("/api/v1/screenings", json={
        "site": {"type": "Point", "coordinates": list(lonlat)}, "radius_m": 100,
        "project": {"industry": "K7010", "nature": "new"}}).json()


def test_changes_need_a_gis_admin_token(api, tmp_path):
    path = _redline_with_new_polygon(api.app.state.runtime, tmp_path)
    assert _upload(api, "eco_redline", path, headers={}).json()["code"] == "auth.required"
    r = _upload(api, "eco_redline", path, headers=api.reviewer)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    r = _upload(api, "eco_redline", path, headers={"Authorization": "Bearer rl_nope"})
    assert r.status_code == 401 and r.json()["code"] == "auth.invalid"
    assert api.post("/api/v1/layers/eco_redline/activate", json={"version": "x"}).status_code == 401
    assert api.get("/api/v1/audit").status_code == 401
    assert api.get("/api/v1/screenings").status_code == 401
    assert api.get("/api/v1/screenings", headers=api.reviewer).status_code == 200


def test_upload_validate_impact_activate_rerun_rollback(api, tmp_path):
    runtime = api.app.state.runtime
    before = _screen(api)
    assert before["verdict"] == "pass"
    old = runtime.store.active_versions()["eco_redline"].version

    r = _upload(api, "eco_redline", _redline_with_new_polygon(runtime, tmp_path), notes="测试说明")
    assert r.status_code == 201, r.text
    body = r.json()
    new = body["version"]["version"]
    cmp_ = body["version"]["validation"]["comparison"]
    assert cmp_["previous_version"] == old and cmp_["after"]["count"] == cmp_["before"]["count"] + 1
    assert cmp_["added_m2"] > 500_000 and cmp_["removed_m2"] < 1
    # change impact, before activation: the stored pass would become a forbid
    hit = next(c for c in body["impact"]["changed"] if c["id"] == before["id"])
    assert hit["before"] == "pass" and hit["after"] == "forbid"
    assert {"rule_id": "redline-no-development", "before": None, "after": "forbid"} in hit["changes"]
    # not live yet
    assert _screen(api)["verdict"] == "pass"
    assert api.get(f"/api/v1/layers/eco_redline/versions/{new}/report").status_code == 200

    r = api.post("/api/v1/layers/eco_redline/activate", json={"version": new}, headers=api.admin)
    assert r.status_code == 200 and r.json()["active"] == new
    assert _screen(api)["verdict"] == "forbid"
    # the stored screening reproduces under its own versions, and differs under current ones
    rr = api.post(f"/api/v1/screenings/{before['id']}/rerun", headers=api.reviewer).json()
    assert rr["same_verdict"]
    cur = api.post(f"/api/v1/screenings/{before['id']}/rerun?current=true",
                   headers=api.reviewer).json()
    assert not cur["same_verdict"] and any(c["rule_id"] == "redline-no-development"
                                           for c in cur["changes"])

    r = api.post("/api/v1/layers/eco_redline/rollback", headers=api.admin)
    assert r.json()["active"] == old and _screen(api)["verdict"] == "pass"
    hist = api.get("/api/v1/layers/eco_redline").json()
    assert {v["version"] for v in hist["versions"]} == {old, new}
    assert [a["version"] for a in hist["activations"][:3]] == [old, new, old]
    audit = api.get("/api/v1/audit", headers=api.admin).json()["entries"]
    assert audit[0]["action"] == "activate" and "管理员" in audit[0]["actor"]


def test_invalid_version_is_recorded_but_never_activatable(api, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "x", "category": "nature_reserve",
                                          "level": "national", "zone": "middle"},
        "geometry": {"type": "Polygon", "coordinates": [list(NEW_RED.exterior.coords)]}}]}))
    r = _upload(api, "protected_area", bad)
    assert r.status_code == 422 and r.json()["code"] == "layer.validation_failed"
    version = r.json()["details"]["version"]
    assert "middle" in " ".join(r.json()["details"]["report"]["errors"])
    r = api.post("/api/v1/layers/protected_area/activate", json={"version": version},
                 headers=api.admin)
    assert r.status_code == 409 and r.json()["code"] == "layer.version_invalid"
    html = api.get(f"/api/v1/layers/protected_area/versions/{version}/report").text
    assert "校验未通过" in html and "middle" in html


def _shapefile_zip(tmp_path: Path, *, encoding: str, cpg: bool, crs: str | None = "EPSG:4326",
                   name_field: str = "name") -> Path:
    d = tmp_path / f"shp_{encoding}_{cpg}_{crs is None}"
    d.mkdir()
    gdf = gpd.GeoDataFrame({name_field: ["缙云山保护区（测试）"], "code": ["HX-1"]},
                           geometry=[NEW_RED], crs="EPSG:4326")
    if crs is None:
        gdf = gdf.set_crs(None, allow_override=True)
    gdf.to_file(d / "红线.shp", encoding=encoding)
    if not cpg:
        (d / "红线.cpg").unlink(missing_ok=True)
    if crs is None:
        (d / "红线.prj").unlink(missing_ok=True)
    z = tmp_path / f"{d.name}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in d.iterdir():
            zf.write(f, f.name)
    return z


def test_gbk_shapefile_without_cpg_keeps_chinese(api, tmp_path):
    r = _upload(api, "eco_redline", _shapefile_zip(tmp_path, encoding="GBK", cpg=False))
    assert r.status_code == 201, r.text
    assert any("GBK" in n for n in r.json()["notes"])
    lv = api.app.state.runtime.store.get_version("eco_redline", r.json()["version"]["version"])
    assert api.app.state.runtime.store.read(lv)["name"].tolist() == ["缙云山保护区（测试）"]


def test_wrong_stated_encoding_is_refused_not_stored_as_mojibake(api, tmp_path):
    r = _upload(api, "eco_redline", _shapefile_zip(tmp_path, encoding="GBK", cpg=False),
                encoding="UTF-8")
    assert r.status_code == 422 and r.json()["code"] == "file.encoding"


def test_shapefile_without_prj_needs_a_stated_crs(api, tmp_path):
    z = _shapefile_zip(tmp_path, encoding="UTF-8", cpg=True, crs=None)
    assert _upload(api, "eco_redline", z).json()["code"] == "layer.crs_missing"
    r = _upload(api, "eco_redline", z, crs="EPSG:4326")
    assert r.status_code == 201 and any("EPSG:4326" in n for n in r.json()["notes"])


def test_field_mapping(api, tmp_path):
    z = _shapefile_zip(tmp_path, encoding="UTF-8", cpg=True, name_field="MC")
    assert "缺少必需字段 name" in " ".join(
        _upload(api, "eco_redline", z).json()["details"]["report"]["errors"])
    r = _upload(api, "eco_redline", z, field_map=json.dumps({"MC": "name"}))
    assert r.status_code == 201, r.text
    r = _upload(api, "eco_redline", z, field_map=json.dumps({"NOPE": "name"}))
    assert r.json()["code"] == "layer.field_map_invalid"


def test_geopackage_table_must_be_chosen(api, tmp_path):
    gpkg = tmp_path / "two.gpkg"
    gdf = gpd.GeoDataFrame({"name": ["甲"], "code": ["1"]}, geometry=[NEW_RED], crs="EPSG:4326")
    gdf.to_file(gpkg, layer="redline_2023", driver="GPKG")
    gdf.to_file(gpkg, layer="redline_2024", driver="GPKG")
    r = _upload(api, "eco_redline", gpkg)
    assert r.json()["code"] == "layer.table_required"
    assert r.json()["details"]["tables"] == ["redline_2023", "redline_2024"]
    assert _upload(api, "eco_redline", gpkg, table="redline_2024").status_code == 201


def test_kml_upload(api, tmp_path):
    kml = tmp_path / "w.kml"
    gpd.GeoDataFrame({"name": ["测试湿地"]}, geometry=[NEW_RED], crs="EPSG:4326").to_file(
        kml, driver="KML")
    r = _upload(api, "wetland", kml, field_map=json.dumps({"Name": "name"}))  # KML's <name>
    assert r.status_code == 201, r.text
    kmz = tmp_path / "w.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(kml, "doc.kml")
    again = _upload(api, "wetland", kmz, field_map=json.dumps({"Name": "name"}))
    assert again.status_code == 201  # same content and metadata: the same immutable version
    assert again.json()["version"]["version"] == r.json()["version"]["version"]


def test_features_outside_chongqing_are_errors(api, tmp_path):
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame({"name": ["北京"], "code": ["X"]}, geometry=[box(116.3, 39.8, 116.4, 39.9)],
                     crs="EPSG:4326").to_file(far, driver="GeoJSON")
    r = _upload(api, "eco_redline", far)
    assert r.status_code == 422
    assert r.json()["details"]["report"]["outside_region"] == 1


def test_audit_log_is_append_only(api):
    db = api.app.state.runtime.store.db_path
    con = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit SET actor = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit")
    con.close()


def test_revoked_token_stops_working(api):
    store = api.app.state.runtime.store
    token, info = TokenStore(store).create("临时", "reviewer")
    h = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/screenings", headers=h).status_code == 200
    TokenStore(store).revoke(info.id)
    assert api.get("/api/v1/screenings", headers=h).json()["code"] == "auth.invalid"
    with sqlite3.connect(store.db_path) as con:
        stored = [r[0] for r in con.execute("SELECT hash FROM tokens")]
    assert token not in stored and all(len(h) == 64 for h in stored)


def test_polygon_with_self_intersection_is_repaired_and_reported(api, tmp_path):
    bow = Polygon([(106.30, 29.55), (106.31, 29.56), (106.31, 29.55), (106.30, 29.56)])
    p = tmp_path / "bow.geojson"
    gpd.GeoDataFrame({"name": ["蝴蝶"], "code": ["B"]}, geometry=[bow], crs="EPSG:4326").to_file(
        p, driver="GeoJSON")
    r = _upload(api, "eco_redline", p)
    assert r.status_code == 201, r.text
    rep = r.json()["version"]["validation"]
    assert rep["repaired"] == 1 and "Self-intersection" in rep["repairs"][0]["reason"]


def test_a_bad_holds_declaration_is_refused_before_anything_is_stored(api, tmp_path):
    """The upload checks ``holds`` as the CLI does (spatial.layers.ingest): a class outside the
    kind's domain is a 422 ``layer.holds_invalid`` and stores nothing, so the same file then
    uploads with the corrected declaration."""
    store = api.app.state.runtime.store
    river = store.read(store.active_versions()["river"])
    path = tmp_path / "river.geojson"
    river.to_file(path, driver="GeoJSON")
    before = len(store.versions("river"))
    bad = _upload(api, "river", path, holds=json.dumps({"class": ["canal"]}))
    assert bad.status_code == 422 and bad.json()["code"] == "layer.holds_invalid"
    assert len(store.versions("river")) == before
    classes = sorted({str(c) for c in river["class"].dropna()})
    good = _upload(api, "river", path, holds=json.dumps({"class": classes}))
    assert good.status_code == 201, good.text
    assert good.json()["version"]["holds"]["class"] == classes
