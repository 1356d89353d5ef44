"""P10: a layer says what it holds. A layer version declares the feature classes it holds
(``SourceMeta.holds``, e.g. river ``class``); a rule asking for a class the active version does
not hold is reported in ``not_evaluated`` (``layer_class_missing``), never silently passed.
Clause exercised: 长江保护法 第二十六条第二款 (长江干支流岸线一公里, the "other tributaries" part:
yangtze-1km-chemical-other-tributary-check)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from shapely.geometry import LineString

from spatial.batch.bulk import prefetch
from spatial.errors import DataError
from spatial.layers.store import LayerStore, SourceMeta
from spatial.project import Project
from spatial.screening.evaluation import screen
from spatial.sites.site import build_site
from tests import synth
from tests.legal.world import CAT, RULESET, ZONE_X, near_river, run

CHEM = {"industry": "C2614", "nature": "new"}  # 有机化学原料制造
OTHER = "yangtze-1km-chemical-other-tributary-check"
MAIN_ONLY = {"class": ["important_tributary", "mainstem"]}


def rivers(holds):
    """The Yangtze main stem at x = ZONE_X (no other tributary drawn)."""
    return synth.layer("river", [(LineString([(ZONE_X, -20_000), (ZONE_X, 20_000)]),
                                  {"name": "长江", "class": "mainstem"})], holds=holds)


def class_gaps(doc):
    return [g for g in doc["not_evaluated"] if g["code"] == "layer_class_missing"]


def test_other_tributary_rule_on_a_layer_without_tributaries_is_not_evaluated():
    """长江保护法 第二十六条第二款 (其他支流): the river layer declares it holds only the main stem and
    important tributaries, the site is 5 km from them → the other-tributary rule is reported
    ``layer_class_missing`` (naming the layer and the missing class) → indeterminate, not pass."""
    doc = run(["yangtze"], near_river(5_000), rivers(MAIN_ONLY), **CHEM)
    gaps = class_gaps(doc)
    assert [g["rule_id"] for g in gaps] == [OTHER]
    assert gaps[0]["missing_classes"] == {"class": ["tributary"]}
    assert "test river" in gaps[0]["reason"] and "其他支流" in gaps[0]["reason"]
    assert doc["verdict"] == "indeterminate"


def test_a_certain_mainstem_forbid_still_wins():
    """长江保护法 第二十六条第二款 (干流): 300 m from the main stem → forbid
    (yangtze-1km-chemical-project-ban); the other-tributary gap is recorded beside it."""
    doc = run(["yangtze"], near_river(300), rivers(MAIN_ONLY), **CHEM)
    assert doc["verdict"] == "forbid"
    assert [g["rule_id"] for g in class_gaps(doc)] == [OTHER]


def test_a_layer_that_declares_tributaries_clears_the_site():
    """长江保护法 第二十六条第二款: a layer that declares it holds tributaries (none near the site)
    proves their absence → no gap, pass."""
    doc = run(["yangtze"], near_river(5_000),
              rivers({"class": ["important_tributary", "mainstem", "tributary"]}), **CHEM)
    assert class_gaps(doc) == [] and doc["not_evaluated"] == []
    assert doc["verdict"] == "pass"


def test_a_tributary_the_layer_holds_fires():
    """长江保护法 第二十六条第二款: a layer declaring all classes, a tributary 400 m away → restrict
    (other-tributary check); a layer holding only tributaries would leave the main-stem rules
    undecided (indeterminate)."""
    lay = synth.layer("river", [(LineString([(ZONE_X, -20_000), (ZONE_X, 20_000)]),
                                 {"name": "梁滩河", "class": "tributary"})],
                      holds={"class": ["important_tributary", "mainstem", "tributary"]})
    doc = run(["yangtze"], near_river(400), lay, **CHEM)
    assert doc["not_evaluated"] == []
    assert doc["verdict"] == "restrict"
    assert {f["rule_id"] for f in doc["findings"]} == {OTHER}


def test_non_chemical_project_is_not_concerned():
    """长江保护法 第二十六条第二款 concerns chemical projects only: housing (K7010) → pass, no gap."""
    doc = run(["yangtze"], near_river(5_000), rivers(MAIN_ONLY), industry="K7010", nature="new")
    assert doc["verdict"] == "pass" and doc["not_evaluated"] == []


def test_batch_reports_the_same_gap_as_a_single_screening():
    """Batch (spatial.batch.bulk prefetch) = single screening for the class gap (→ indeterminate)."""
    rules = tuple(r for r in RULESET.rules if r.family == "yangtze")
    rs = dataclasses.replace(RULESET, rules=rules)
    layers = synth.layerset(synth.district_layer(), rivers(MAIN_ONLY))
    proj = Project.from_dict(CHEM, CAT)
    sites = [build_site(synth.ll(near_river(d))) for d in (300, 5_000)]
    for site, known in zip(sites, prefetch(sites, rules, layers), strict=True):
        single = screen(site, proj, layers, rs).as_doc()
        bulk = screen(site, proj, layers, rs, known).as_doc()
        assert bulk["verdict"] == single["verdict"]
        assert bulk["not_evaluated"] == single["not_evaluated"]
        assert bulk["findings"] == single["findings"]


def _frame(classes, prefix="r"):
    return gpd.GeoDataFrame({"name": [f"{prefix}{i}" for i in range(len(classes))],
                             "class": classes},
                            geometry=[LineString([(106.3 + i / 100, 29.5), (106.3 + i / 100, 29.6)])
                                      for i in range(len(classes))], crs="EPSG:4326")


def test_import_records_the_classes_found_by_default(tmp_path):
    """A river version imported without ``holds`` records the distinct classes of its data
    (shown in /api/v1/layers through ``LayerVersion.public``)."""
    store = LayerStore(tmp_path)
    lv = store.import_frame("river", _frame(["mainstem", "important_tributary"]),
                            SourceMeta(title="rivers", accuracy_m=10), loaded_by="t")
    assert lv.meta.holds == {"class": ["important_tributary", "mainstem"]}
    assert lv.public()["holds"] == lv.meta.holds


def test_import_refuses_a_declaration_that_omits_a_class_of_the_data(tmp_path):
    """A declaration must name every class the data holds, and only values of the domain."""
    store = LayerStore(tmp_path)
    with pytest.raises(DataError, match="holds"):
        store.import_frame("river", _frame(["mainstem", "tributary"]),
                           SourceMeta(title="r", accuracy_m=10, holds={"class": ["mainstem"]}),
                           loaded_by="t")
    with pytest.raises(DataError, match="holds"):
        store.import_frame("river", _frame(["mainstem"]),
                           SourceMeta(title="r", accuracy_m=10, holds={"class": ["canal"]}),
                           loaded_by="t")
    lv = store.import_frame("river", _frame(["mainstem"], "ok"), SourceMeta(
        title="r", accuracy_m=10, holds={"class": ["mainstem", "tributary"]}), loaded_by="t")
    assert lv.meta.holds == {"class": ["mainstem", "tributary"]}


def test_the_shipped_river_layer_declares_no_other_tributary():
    """data/layers.yaml: the WDB II river layer holds the main stem and important tributaries."""
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "layers.yaml")
                              .read_text(encoding="utf-8"))
    river = next(e for e in manifest["layers"] if e["kind"] == "river")
    assert river["holds"] == MAIN_ONLY


@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    """An empty data directory (no demo seeding) for ``redline layers import``, and a one-river
    layer file holding only the main stem."""
    from app.cli import main

    monkeypatch.setenv("REDLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REDLINE_SEED_DEMO", "0")
    path = tmp_path / "river.geojson"
    _frame(["mainstem"]).to_file(path, driver="GeoJSON")

    def run_cli(*holds: str) -> int:
        return main(["layers", "import", "river", str(path), "--accuracy-m", "10",
                     *[a for h in holds for a in ("--holds", h)]])

    return run_cli, LayerStore(tmp_path / "home")


def test_cli_import_records_the_declared_classes(cli_home, capsys):
    """``redline layers import river … --holds class=mainstem`` stores the version with that
    declaration, as the API's ``holds`` field does (and shows it in the printed version)."""
    run_cli, store = cli_home
    assert run_cli("class=mainstem") == 0
    (lv,) = store.versions("river")
    assert lv.meta.holds == {"class": ["mainstem"]}
    assert json.loads(capsys.readouterr().out)["holds"] == {"class": ["mainstem"]}


def test_cli_import_refuses_an_unknown_class_or_attribute(cli_home, capsys):
    """--holds with a value outside the kind's domain, an attribute that is not a class attribute
    of the kind, or a malformed declaration → a Chinese error naming the problem, exit 2, and
    nothing stored, so the same file then imports with a corrected declaration (repeated --holds
    merge; a class the data lacks may be declared, vouching there is none)."""
    run_cli, store = cli_home
    assert run_cli("class=canal") == 2
    err = capsys.readouterr().err
    assert "holds：class 的取值 canal 不在允许值" in err and "layer.holds_invalid" in err
    assert run_cli("colour=blue") == 2
    assert "colour 不是图层类型 river 的分类属性" in capsys.readouterr().err
    assert run_cli("class") == 2
    assert "--holds 须写作 属性=取值1,取值2" in capsys.readouterr().err
    assert store.versions("river") == []
    assert run_cli("class=tributary,mainstem", "class=mainstem") == 0
    assert [lv.meta.holds for lv in store.versions("river")] == [
        {"class": ["mainstem", "tributary"]}]
