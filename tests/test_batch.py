"""Batch screening: each row equals screening that site alone; bad sites get error rows."""

from __future__ import annotations

import csv
import io
import json

from app.cli import main
from spatial.service import ScreeningRequest

SITES = [
    {"type": "Feature", "properties": {"id": "A", "industry": "C2614"},
     "geometry": {"type": "Point", "coordinates": [106.451142, 29.618444]}},
    {"type": "Feature", "properties": {"id": "B"},
     "geometry": {"type": "Point", "coordinates": [106.332299, 29.557251]}},
    {"type": "Feature", "properties": {"id": "C"},
     "geometry": {"type": "Point", "coordinates": [29.5, 106.3]}},  # swapped axes
    {"type": "Feature", "properties": {"id": "D"}, "geometry": None},
]
FC = {"type": "FeatureCollection", "features": SITES}


def test_api_batch_rows_equal_single_screenings(client, engine, reviewer_headers):
    r = client.post("/api/v1/screenings/batch", headers=reviewer_headers, json={
        "sites": FC, "radius_m": 100, "project": {"industry": "K7010", "nature": "new"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 4 and body["counts"]["error"] == 2
    rows = {row["site_id"]: row for row in body["rows"]}
    for sid, industry in (("A", "C2614"), ("B", "K7010")):
        alone = engine.service.evaluate(ScreeningRequest(
            site=next(s for s in SITES if s["properties"]["id"] == sid)["geometry"],
            radius_m=100, project={"industry": industry, "nature": "new"}))
        assert rows[sid]["verdict"] == alone["verdict"]
        assert rows[sid]["forbid_rules"] == [f["rule_id"] for f in alone["findings"]
                                             if f["verdict"] == "forbid"]
    assert rows["A"]["verdict"] == "forbid" and rows["B"]["verdict"] == "pass"
    assert rows["C"]["error_code"] == "site.axis_swapped"
    assert rows["D"]["error_code"] == "site.missing"


def test_api_batch_limits(client, reviewer_headers):
    many = {"type": "FeatureCollection", "features": [SITES[1]] * 501}
    r = client.post("/api/v1/screenings/batch", json={"sites": many}, headers=reviewer_headers)
    assert r.status_code == 413 and r.json()["code"] == "batch.too_large"
    r = client.post("/api/v1/screenings/batch", json={"sites": {"type": "Point"}},
                    headers=reviewer_headers)
    assert r.status_code == 422 and r.json()["code"] == "batch.not_feature_collection"


def test_cli_batch_writes_csv_and_geojson_with_progress(demo_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REDLINE_HOME", str(demo_home))
    sites = tmp_path / "parcels.geojson"
    sites.write_text(json.dumps(FC), encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["batch", str(sites), "--industry", "K7010", "--nature", "new",
                 "--radius-m", "100", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "已完成 4/4" in captured.err and "error 2" in captured.out
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["verdict"] for r in table] == ["forbid", "pass", "error", "error"]
    assert "jialing-1km-chemical-risk-ban" in table[0]["forbid_rules"]
    gj = tmp_path / "out.geojson"
    assert main(["batch", str(sites), "--industry", "K7010", "--nature", "new",
                 "--out", str(gj)]) == 0
    fc = json.loads(gj.read_text(encoding="utf-8"))
    assert len(fc["features"]) == 4 and fc["features"][0]["properties"]["site_id"] == "A"
    assert main(["batch", str(tmp_path / "nope.geojson"), "--out", str(gj)]) == 2
