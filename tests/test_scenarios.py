"""End-to-end scenarios on the shipped demo data: expected verdicts and rule ids.

Reference points are documented in data/README.md (built by scripts/demo_data/).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.cli import main
from spatial.service import ScreeningRequest

JIALING_600M = (106.451142, 29.618444)  # 沙坪坝, ~600 m from WDB II, ~330 m from the shipped Jialing
JIALING_3KM = (106.442142, 29.568444)  # 沙坪坝 built-up area, ~3 km from WDB II, ~2.1 km shipped
CHANGSHOU_PARK = (107.015909, 29.873864)  # 长寿 chemical park, > 7 km from any river
CLEAR_SPB = (106.332299, 29.557251)  # western 沙坪坝, ≥ 4.9 km from every illustrative zone
JINYUN_CORE = (106.312309, 29.728557)  # 缙云山 reserve core (沙坪坝 part)
ZHONGLIANG_NO_BUILD = (106.419497, 29.676787)
JINGKOU_L1 = (106.464008, 29.660174)
JINGKOU_L2 = (106.454099, 29.665509)
SICHUAN = (106.4, 30.3)  # 2.4 km outside Chongqing


def screen(runtime, lonlat, project: dict[str, Any], radius_m: float = 50, **kw) -> dict[str, Any]:
    site = {"type": "Point", "coordinates": list(lonlat)}
    return runtime.service.evaluate(ScreeningRequest(site=site, project=project,
                                                    radius_m=radius_m, **kw))


def ids(doc: dict[str, Any], verdict: str | None = None) -> set[str]:
    return {f["rule_id"] for f in doc["findings"] if verdict in (None, f["verdict"])}


CHEM_NEW = {"industry": "C2614", "nature": "new"}
HOUSING = {"industry": "K7010", "nature": "new"}


def test_chemical_plant_600m_from_jialing_in_shapingba_is_forbidden(runtime):
    doc = screen(runtime, JIALING_600M, CHEM_NEW)
    assert doc["verdict"] == "forbid"
    forbid = ids(doc, "forbid")
    assert {"jialing-1km-chemical-risk-ban", "shapingba-no-new-chemical-cement-brick"} <= forbid
    jl = next(f for f in doc["findings"] if f["rule_id"] == "jialing-1km-chemical-risk-ban")
    assert jl["feature"]["name"] == "嘉陵江" and jl["measure"]["threshold_m"] == 1000
    # distance to the bank = to the centreline minus the Jialing's stated half-width (P11); the
    # point was chosen ~600 m from the WDB II line, it is ~330 m from the shipped main-city reach
    # (Shapingba's river border, issue 22)
    assert 250 < jl["measure"]["distance_to_centreline_m"] < 450
    assert jl["measure"]["half_width_m"] == 150.0
    assert jl["measure"]["distance_m"] == pytest.approx(
        jl["measure"]["distance_to_centreline_m"] - 150.0, abs=0.1)
    assert not jl["borderline"]  # the main-city reach's accuracy (150 m) makes it certain


def test_same_plant_in_compliant_chemical_park_far_from_rivers_is_not_forbidden(runtime):
    doc = screen(runtime, CHANGSHOU_PARK, CHEM_NEW)
    assert doc["verdict"] != "forbid"
    assert not ids(doc, "forbid")
    assert "parks-heavy-polluting-outside-compliant-park" not in ids(doc)
    # the Shapingba-only demo layers cannot clear a site in 长寿: honest gaps, not a pass
    assert doc["verdict"] == "indeterminate"
    # ... and the river layer holds no other tributary (P10): that rule is not evaluated either
    assert {g["code"] for g in doc["not_evaluated"]} == {"layer_incomplete", "layer_class_missing"}


def test_new_cement_plant_outside_any_park_is_forbidden(runtime):
    doc = screen(runtime, CLEAR_SPB, {"industry": "C3011", "nature": "new"})
    assert doc["verdict"] == "forbid"
    assert {"parks-heavy-polluting-outside-compliant-park",
            "shapingba-no-new-chemical-cement-brick"} <= ids(doc, "forbid")


def test_new_industrial_park_3km_from_jialing_is_restricted(runtime):
    doc = screen(runtime, JIALING_3KM, {"type": "industrial_park", "nature": "new"})
    assert doc["verdict"] == "restrict"
    assert ids(doc, "restrict") == {"jialing-5km-new-industrial-park-restrict"}
    f = doc["findings"][0]
    # ~3 km from the WDB II line where it was chosen, ~2 km from the shipped main-city reach
    assert f["measure"]["threshold_m"] == 5000 and 1700 < f["measure"]["distance_m"] < 2400


def test_housing_in_jinyun_reserve_core_is_forbidden(runtime):
    doc = screen(runtime, JINYUN_CORE, HOUSING)
    assert doc["verdict"] == "forbid"
    assert {"nature-reserve-core-buffer-no-construction", "redline-no-development"} <= ids(
        doc, "forbid")


def test_housing_clear_of_every_zone_passes(runtime):
    doc = screen(runtime, CLEAR_SPB, HOUSING, radius_m=200)
    assert doc["verdict"] == "pass", doc["findings"]
    assert not doc["not_evaluated"]
    assert doc["site"]["districts"] == [{"adcode": "500106", "name": "沙坪坝区"}]


def test_site_in_sichuan_is_indeterminate(runtime):
    doc = screen(runtime, SICHUAN, CHEM_NEW)
    assert doc["verdict"] == "indeterminate"
    assert doc["not_evaluated"][0]["code"] == "outside_coverage" and not doc["findings"]


def test_no_industry_given_is_not_pass(runtime):
    doc = screen(runtime, CLEAR_SPB, {"nature": "new"})
    assert doc["verdict"] == "indeterminate"
    assert any(g["code"] == "attribute_missing" and g["missing"] == ["industry"]
               for g in doc["not_evaluated"])


def test_housing_in_zhongliang_no_build_zone_is_forbidden(runtime):
    doc = screen(runtime, ZHONGLIANG_NO_BUILD, HOUSING)
    assert doc["verdict"] == "forbid" and "four-mountains-no-build-zone" in ids(doc, "forbid")


def test_housing_in_level1_water_source_is_forbidden(runtime):
    doc = screen(runtime, JINGKOU_L1, HOUSING, radius_m=20)
    assert "water-source-level1-no-unrelated-construction" in ids(doc, "forbid")


def test_waterworks_in_level1_zone_is_only_restricted(runtime):
    doc = screen(runtime, JINGKOU_L1, {"industry": "D4610", "nature": "new"}, radius_m=20)
    f = next(f for f in doc["findings"]
             if f["rule_id"] == "water-source-level1-no-unrelated-construction")
    assert f["verdict"] == "restrict" and f["exception"]


def test_chemical_plant_in_level2_water_source_zone_is_forbidden(runtime):
    doc = screen(runtime, JINGKOU_L2, CHEM_NEW, radius_m=20)
    assert "water-source-level2-no-polluting-industry" in ids(doc, "forbid")


def test_pipeline_through_red_line_as_linear_infrastructure_is_restricted(runtime):
    """A 4 km pipeline crossing the 缙云山 red line, declared linear infrastructure: restrict."""
    line = {"type": "LineString", "coordinates": [[106.29, 29.7285], [106.33, 29.7285]]}
    doc = runtime.service.evaluate(ScreeningRequest(
        site=line, corridor_width_m=30,
        project={"industry": "G5720", "nature": "new", "activity": ["linear_infrastructure"]}))
    red = next(f for f in doc["findings"] if f["rule_id"] == "redline-no-development")
    assert red["verdict"] == "restrict" and red["exception"]
    assert doc["site"]["length_m"] == pytest.approx(3870, rel=0.01)
    plain = runtime.service.evaluate(ScreeningRequest(
        site=line, corridor_width_m=30, project={"industry": "G5720", "nature": "new"}))
    assert "redline-no-development" in ids(plain, "forbid")


def test_rebuild_of_chemical_plant_is_not_hit_by_the_new_build_bans(runtime):
    doc = screen(runtime, JIALING_600M, {"industry": "C2614", "nature": "rebuild"})
    assert "jialing-1km-chemical-risk-ban" not in ids(doc)
    assert "shapingba-no-new-chemical-cement-brick" not in ids(doc)


def test_every_finding_cites_a_clause_and_records_versions(runtime):
    doc = screen(runtime, JIALING_600M, CHEM_NEW)
    for f in doc["findings"]:
        assert f["basis"]["document"] and f["basis"]["clause"] and f["basis"]["quote"]
        assert f["basis"]["source"].startswith(
            ("seed:", "law", "regulation", "local-draft", "access_list:"))
    kinds = {lay["kind"] for lay in doc["layers"]}
    assert {"admin_district", "river", "eco_redline", "industrial_park"} <= kinds
    assert all(lay["demo"] in (True, False) and len(lay["sha256"]) == 64 for lay in doc["layers"])


def test_cli_screen_prints_the_same_document_as_the_api(demo_home, tmp_path, monkeypatch,
                                                         capsys, client):
    monkeypatch.setenv("REDLINE_HOME", str(demo_home))
    site = {"type": "Feature", "properties": {},
            "geometry": {"type": "Point", "coordinates": list(JIALING_600M)}}
    path = tmp_path / "site.geojson"
    path.write_text(json.dumps(site), encoding="utf-8")
    assert main(["screen", str(path), "--industry", "C2614", "--nature", "new",
                 "--radius-m", "50"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = client.get(cli["links"]["self"]).json()
    assert api == cli
    assert cli["verdict"] == "forbid"
    assert main(["screen", str(path), "--industry", "C2614", "--format", "table"]) == 0
    assert "结论" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "code"), [
    (["screen", "/nonexistent.geojson"], "file.not_found"),
    (["screen", "{site}", "--industry", "Z99"], "industry.unknown"),
    (["layers", "activate", "river", "nope"], "layer.version_not_found"),
])
def test_cli_errors_are_messages_not_tracebacks(demo_home, tmp_path, monkeypatch, capsys,
                                                argv, code):
    monkeypatch.setenv("REDLINE_HOME", str(demo_home))
    site = tmp_path / "s.geojson"
    site.write_text(json.dumps({"type": "Point", "coordinates": list(CLEAR_SPB)}))
    rc = main([a.replace("{site}", str(site)) for a in argv])
    err = capsys.readouterr().err
    assert rc != 0 and code in err and "Traceback" not in err


def test_coarse_industry_code_cannot_pass_a_rule_it_may_fall_under(runtime):
    """C17 (textiles) may be printing and dyeing: near the Jialing the 1 km ban needs a 4-digit
    code, so it is a gap, never silently cleared; C1713 (cotton dyeing) triggers the ban."""
    doc = screen(runtime, JIALING_600M, {"industry": "C17", "nature": "new"})
    gap = next(g for g in doc["not_evaluated"] if g["rule_id"] == "jialing-1km-chemical-risk-ban")
    assert gap["code"] == "attribute_missing" and gap["missing"] == ["industry_detail"]
    dyeing = screen(runtime, JIALING_600M, {"industry": "C1713", "nature": "new"})
    assert "jialing-1km-chemical-risk-ban" in ids(dyeing, "forbid")


def test_heavy_metal_industry_implies_the_discharge_flag(runtime):
    doc = screen(runtime, JINYUN_CORE, {"industry": "C3360", "nature": "new"})
    assert "heavy_metal_discharge" in doc["project"]["flags_implied"]
    assert "heavy-metal-no-new-in-redline" in ids(doc, "forbid")


def test_old_datum_site_widens_the_borderline_band(runtime):
    from pyproj import Transformer
    t = Transformer.from_crs("EPSG:4326", "EPSG:2380", always_xy=True)
    x, y = t.transform(*CLEAR_SPB)
    doc = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Point", "coordinates": [x, y]}, crs="EPSG:2380", radius_m=50, project=HOUSING))
    assert doc["site"]["accuracy_m"] == 100
