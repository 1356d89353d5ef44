"""Layer store: versions are content-addressed and immutable; activation switches atomically."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

import pytest

from spatial.errors import DataError, NotFoundError
from spatial.layers.ingest import import_layer
from spatial.layers.layerset import LayerSetCache
from spatial.layers.store import LayerStore, SourceMeta


def import_file(store, kind, path, meta, **kw):
    """A layer file imported as a new version (``import_layer``), the version only."""
    return import_layer(store, kind, path, meta, **kw)[0]


def _geojson(path: Path, features: list[tuple[list, dict]], crs: str | None = "EPSG:4326") -> Path:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": props} for ring, props in features]}
    if crs is None:
        doc["crs"] = None
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


SQ = [[106.4, 29.6], [106.41, 29.6], [106.41, 29.61], [106.4, 29.61], [106.4, 29.6]]
SQ2 = [[106.5, 29.6], [106.51, 29.6], [106.51, 29.61], [106.5, 29.61], [106.5, 29.6]]
META = SourceMeta(title="测试红线", accuracy_m=5, demo=True)


def test_import_is_content_addressed_and_idempotent(tmp_path):
    store = LayerStore(tmp_path / "home")
    f = _geojson(tmp_path / "a.geojson", [(SQ, {"name": "甲", "code": "1"})])
    v1 = import_file(store, "eco_redline", f, META, loaded_by="t")
    v2 = import_file(store, "eco_redline", f, META, loaded_by="t")
    assert v1.version == v2.version == v1.sha256[:16]
    assert len(store.versions("eco_redline")) == 1
    assert v1.path.exists() and v1.feature_count == 1


def test_feature_order_does_not_change_the_hash(tmp_path):
    store = LayerStore(tmp_path / "home")
    a = _geojson(tmp_path / "a.geojson", [(SQ, {"name": "甲", "code": "1"}),
                                         (SQ2, {"name": "乙", "code": "2"})])
    b = _geojson(tmp_path / "b.geojson", [(SQ2, {"name": "乙", "code": "2"}),
                                         (SQ, {"name": "甲", "code": "1"})])
    assert (import_file(store, "eco_redline", a, META, loaded_by="t").sha256
            == import_file(store, "eco_redline", b, META, loaded_by="t").sha256)


def test_activation_and_rollback_change_the_active_set(tmp_path):
    store = LayerStore(tmp_path / "home")
    cache = LayerSetCache(store)
    v1 = import_file(store, "eco_redline", _geojson(tmp_path / "1.geojson",
                           [(SQ, {"name": "甲", "code": "1"})]), META, loaded_by="t", activate=True)
    set1 = cache.active()
    v2 = import_file(store, "eco_redline", _geojson(tmp_path / "2.geojson",
                           [(SQ2, {"name": "乙", "code": "2"})]), META, loaded_by="t")
    assert store.active_versions()["eco_redline"].version == v1.version  # import ≠ activate
    store.activate("eco_redline", v2.version, actor="t")
    set2 = cache.active()
    assert set2.key != set1.key and set1.layers["eco_redline"].attrs[0]["name"] == "甲"
    store.activate("eco_redline", v1.version, actor="t")  # rollback
    assert cache.active() is set1  # the indexed set is reused, not rebuilt


def test_indexed_layers_are_kept_out_of_the_collectors_walks(tmp_path):
    """Full collections must not walk a built set's geometries (100 000 on the stress set:
    a 45 ms pause per collection); an evicted set is still freed."""
    store = LayerStore(tmp_path / "home")
    cache = LayerSetCache(store, size=1)
    import_file(store, "eco_redline", _geojson(tmp_path / "1.geojson",
                      [(SQ, {"name": "甲", "code": "1"})]), META, loaded_by="t", activate=True)
    try:
        first = cache.active()
        geom = first.layers["eco_redline"].geoms[0]
        assert gc.is_tracked(geom) and not any(o is geom for o in gc.get_objects())
        gone = weakref.ref(first)
        del first
        v2 = import_file(store, "eco_redline", _geojson(tmp_path / "2.geojson",
                               [(SQ2, {"name": "乙", "code": "2"})]), META, loaded_by="t")
        store.activate("eco_redline", v2.version, actor="t")
        cache.active()  # evicts the first set (size=1)
        assert gone() is None
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(("props", "message"), [
    ({"code": "1"}, "缺少必需字段 name"),
])
def test_schema_violations_are_refused(tmp_path, props, message):
    store = LayerStore(tmp_path / "home")
    with pytest.raises(DataError) as exc:
        import_file(store, "protected_area", _geojson(tmp_path / "x.geojson", [(SQ, props)]), META,
                          loaded_by="t")
    assert exc.value.code == "layer.validation_failed" and message in exc.value.message_zh


def test_domain_violation_is_refused(tmp_path):
    store = LayerStore(tmp_path / "home")
    props = {"name": "x", "category": "nature_reserve", "level": "national", "zone": "middle"}
    with pytest.raises(DataError) as exc:
        import_file(store, "protected_area", _geojson(tmp_path / "x.geojson", [(SQ, props)]), META,
                          loaded_by="t")
    assert "middle" in exc.value.message_zh
    refused = store.versions("protected_area")
    assert [v.version for v in refused] == [exc.value.details["version"]]  # recorded, with report
    assert refused[0].validation["errors"]
    from spatial.errors import ConflictError
    with pytest.raises(ConflictError):
        store.activate("protected_area", refused[0].version, actor="t")
    assert "protected_area" not in store.active_versions()


def test_unknown_kind_and_version(tmp_path):
    store = LayerStore(tmp_path / "home")
    with pytest.raises(NotFoundError):
        store.get_version("eco_redline", "nope")
    with pytest.raises(NotFoundError):
        import_file(store, "no_kind", _geojson(tmp_path / "x.geojson", [(SQ, {})]), META,
                          loaded_by="t")


def test_attribute_types_are_converted(tmp_path):
    """adcode read as a number becomes the 6-digit string; 是/否 become booleans."""
    store = LayerStore(tmp_path / "home")
    lv = import_file(store, "admin_district", _geojson(tmp_path / "a.geojson",
                           [(SQ, {"adcode": 500106, "name": "沙坪坝区"})]), META, loaded_by="t")
    assert store.read(lv)["adcode"].tolist() == ["500106"]
    park = import_file(store, "industrial_park", _geojson(tmp_path / "p.geojson",
                             [(SQ, {"name": "园区", "compliant": "是", "chemical": "false"})]),
                             META, loaded_by="t")
    row = store.read(park).iloc[0]
    assert bool(row["compliant"]) is True and bool(row["chemical"]) is False


@pytest.mark.parametrize(("kind", "props", "fragment"), [
    ("industrial_park", {"name": "园区", "compliant": "maybe", "chemical": False}, "布尔值"),
    ("admin_district", {"adcode": "5001", "name": "x"}, "格式不符"),
])
def test_unconvertible_attribute_values_are_refused(tmp_path, kind, props, fragment):
    store = LayerStore(tmp_path / "home")
    with pytest.raises(DataError) as exc:
        import_file(store, kind, _geojson(tmp_path / "x.geojson", [(SQ, props)]), META, loaded_by="t")
    assert fragment in exc.value.message_zh


def test_same_content_with_other_metadata_is_a_conflict(tmp_path):
    from spatial.errors import ConflictError

    store = LayerStore(tmp_path / "home")
    f = _geojson(tmp_path / "a.geojson", [(SQ, {"name": "甲", "code": "1"})])
    import_file(store, "eco_redline", f, META, loaded_by="t")
    with pytest.raises(ConflictError):
        import_file(store, "eco_redline", f, SourceMeta(title="另一标题", accuracy_m=100),
                          loaded_by="t")


def test_layer_comparison_without_a_union_gives_the_union_numbers():
    """Disjoint layers are compared feature by feature; the numbers equal the union method."""
    import numpy as np
    import shapely
    from shapely.geometry import box

    from spatial.geodesy import geodesic_area
    from spatial.layers.validation import _diff

    old = np.array([box(106.40, 29.50, 106.42, 29.52), box(106.43, 29.50, 106.45, 29.52),
                    box(106.42, 29.50, 106.43, 29.51)], dtype=object)  # edge-touching
    new = np.array([box(106.41, 29.50, 106.44, 29.515), box(106.50, 29.50, 106.51, 29.51)],
                   dtype=object)
    got = _diff(new, old)
    un, uo = shapely.union_all(new), shapely.union_all(old)
    assert got["added_m2"] == pytest.approx(geodesic_area(shapely.difference(un, uo)), abs=0.2)
    assert got["removed_m2"] == pytest.approx(geodesic_area(shapely.difference(uo, un)), abs=0.2)
    assert got["area_before_m2"] == pytest.approx(geodesic_area(uo), abs=0.2)
    overlapping = np.array([box(106.40, 29.50, 106.42, 29.52), box(106.41, 29.50, 106.43, 29.52)],
                           dtype=object)
    both = _diff(overlapping, old)  # overlapping features fall back to the union
    assert both["area_after_m2"] == pytest.approx(
        geodesic_area(shapely.union_all(overlapping)), abs=0.2)
