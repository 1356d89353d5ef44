"""The verdict types (spatial.verdict) are the whole verdict document: every document the engine
gives reads back as its type and writes out byte for byte the same, and the API's schema is
generated from the same classes."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from pydantic import ValidationError

from benchmarks import stressdata
from spatial.batch import chunks as batch
from spatial.service import ScreeningRequest, to_json
from spatial.verdict import (
    Finding,
    Gap,
    Nearest,
    Verdict,
    VerdictDocument,
    read_document,
    read_verdict,
)
from tests.test_raster import _run as raster_run
from tests.test_raster import _world as raster_world
from tests.test_raster import cell_box, raster_layer

PROJECTS = [
    {"industry": "C2614", "nature": "new"},
    {"industry": "C3011", "nature": "new", "flags": ["independent_grinding"]},
    {"nature": "new"},  # attribute gaps
    {"industry": "C", "nature": "new"},  # too coarse: industry_detail gaps
    {"industry": "C2614", "nature": "new", "type": "chemical_park"},
    {"industry": "K7010", "nature": "new"},
]


@pytest.fixture(scope="module")
def docs(runtime):
    """Verdict documents of 240 parcels across Chongqing and around 沙坪坝, for six projects."""
    near = stressdata.parcels(120, seed=5, adcodes=("500106",), broken_share=0)["features"]
    far = stressdata.parcels(120, seed=6, broken_share=0)["features"]
    out = []
    for f, p in zip(near + far, itertools.cycle(PROJECTS)):
        out.append(runtime.service.evaluate(ScreeningRequest(site=f["geometry"], project=p)))
    # a declared linear facility in the 中梁山 no-build zone: exceptions that applied
    out.append(runtime.service.evaluate(ScreeningRequest(
        site={"type": "Point", "coordinates": [106.419497, 29.676787]}, radius_m=50,
        project={"industry": "E4813", "nature": "new", "activity": ["linear_infrastructure"]})))
    # housing declared as a geological survey there: the declaration is refused
    out.append(runtime.service.evaluate(ScreeningRequest(
        site={"type": "Point", "coordinates": [106.419497, 29.676787]}, radius_m=50,
        project={"industry": "K7010", "nature": "new", "activity": ["geological_survey"]})))
    return out


def test_every_document_reads_back_as_its_type_and_writes_the_same_bytes(docs):
    """Nothing in a document is outside the types: read and written again, it is identical."""
    for doc in docs:
        assert to_json(read_verdict(doc).as_doc()) == to_json(doc)


def test_the_documents_exercise_every_optional_part(docs):
    """The round trip above covers what documents have only sometimes."""
    verdicts = [read_verdict(d) for d in docs]
    gaps = [g for v in verdicts for g in v.not_evaluated]
    findings = [f for v in verdicts for f in v.findings]
    near = [n for v in verdicts for n in v.nearest]
    assert {v.verdict for v in verdicts} == {"forbid", "restrict", "pass", "indeterminate"}
    assert any(g.missing for g in gaps) and any(g.rule_id is None for g in gaps)
    assert any(f.exception is not None for f in findings)
    assert any(f.exception_refused_zh for f in findings)
    assert any(f.layer is None for f in findings) and any(f.feature for f in findings)
    assert any(n.distance_m is None for n in near) and any(n.feature for n in near)
    assert any(v.control_units for v in verdicts)


def test_raster_findings_and_class_gaps_round_trip():
    """A raster finding carries its thumbnail keys; a layer that lacks a class gives a gap with
    the classes it lacks; both read back and write out the same."""
    data = np.full((10, 10), 3, dtype=np.uint8)  # class 3: extremely important
    doc = raster_run("eco-importance-extreme-share", cell_box(1, 1, 4, 4),
                     raster_world(raster_layer("eco_importance", data, nodata=0)),
                     {"industry": "K7010", "nature": "new"})
    f = next(x for x in doc["findings"] if x["rule_id"] == "eco-importance-extreme-share")
    assert f["thumbnail"].startswith("data:image/png;base64,") and len(f["thumbnail_bounds"]) == 4
    assert to_json(read_verdict(doc).as_doc()) == to_json(doc)
    gap = Gap(rule_id="r", code="layer_class_missing", reason="缺", reason_en="missing",
              layer="river", missing_classes={"class": ("tributary",)})
    assert gap.as_doc() == {"rule_id": "r", "code": "layer_class_missing", "reason": "缺",
                            "reason_en": "missing", "layer": "river",
                            "missing_classes": {"class": ["tributary"]}}


def test_optional_keys_are_left_out_not_written_as_null():
    """Documents keep the shape they always had: no thumbnail key without a thumbnail, no
    feature in a nearest entry with nothing within reach."""
    f = Finding(rule_id="r", verdict="restrict", verdict_zh="限制", family="t", title_zh="t")
    assert "thumbnail" not in f.as_doc() and f.as_doc()["exception"] is None
    n = Nearest(label_zh="长江", kind="river", distance_m=None, within_m=10_000, accuracy_m=150)
    assert set(n.as_doc()) == {"label_zh", "kind", "distance_m", "within_m", "accuracy_m"}
    g = Gap(rule_id=None, code="outside_coverage", reason="外", reason_en="outside")
    assert set(g.as_doc()) == {"rule_id", "code", "reason", "reason_en"}


def test_a_document_that_is_not_one_is_refused():
    """Reading validates: a finding with an unknown verdict is not a verdict document."""
    bad = {"verdict": "pass", "verdict_zh": "通过", "summary_zh": "", "site": {}, "project": {},
           "findings": [{"rule_id": "r", "verdict": "maybe", "verdict_zh": "?", "family": "t",
                         "title_zh": "t"}], "id": "x", "created_at": "t"}
    with pytest.raises(ValidationError):
        read_document(bad)


def test_an_older_document_without_the_later_blocks_reads_with_them_empty():
    """Screenings stored before control units, the checklist and nearest existed still open."""
    old = {"id": "x", "created_at": "2026-01-01T00:00:00Z", "verdict": "pass",
           "verdict_zh": "通过", "summary_zh": "通过。", "site": {}, "project": {},
           "findings": [], "not_evaluated": [], "layers": [], "rules_version": "0" * 64,
           "engine_version": "0.1"}
    doc = read_document(old)
    assert doc.control_units == [] and doc.checklist == [] and doc.nearest == []


def test_the_api_documents_and_returns_the_verdict_type(client):
    """POST and GET /api/v1/screenings/{id} are documented by the VerdictDocument schema, built
    from the dataclass fields, and what they return reads as that type unchanged."""
    spec = client.get("/openapi.json").json()
    for path, method, status in (("/api/v1/screenings", "post", "201"),
                                 ("/api/v1/screenings/{screening_id}", "get", "200")):
        schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
        assert schema["schema"] == {"$ref": "#/components/schemas/VerdictDocument"}
    comp = spec["components"]["schemas"]
    for cls in (VerdictDocument, Finding, Gap, Nearest):
        assert set(comp[cls.__name__]["properties"]) == {f.name for f in dataclasses.fields(cls)}
    assert set(comp["VerdictDocument"]["properties"]) >= {f.name for f in
                                                          dataclasses.fields(Verdict)}
    body = {"site": {"type": "Point", "coordinates": [106.451142, 29.618444]},
            "project": {"industry": "C2614", "nature": "new"}}
    r = client.post("/api/v1/screenings", json=body)
    assert r.status_code == 201, r.text
    posted = r.json()
    doc = read_document(posted)
    assert doc.findings and doc.verdict == posted["verdict"]
    again = client.get(posted["links"]["self"]).json()
    assert again == posted
    stamped = {"id": doc.id, **read_verdict(again).as_doc(), "created_at": doc.created_at,
               "links": doc.links}
    assert stamped == again


def test_batch_rows_read_the_verdict_type(runtime):
    """A batch row is made from the verdict the engine returns, as from the document."""
    feats = stressdata.parcels(30, seed=9, adcodes=("500106",), broken_share=0)["features"]
    opts = batch.BatchOptions({"industry": "C2614", "nature": "new"})
    rows = batch.screen_chunk(runtime.service, feats, opts)
    for row, f in zip(rows, feats, strict=True):
        _, req = batch.request_for(f, opts)
        doc = runtime.service.evaluate(req)
        want = batch.row_from_verdict({"index": row["index"], "site_id": row["site_id"]},
                                      read_verdict(doc))
        assert row == want
