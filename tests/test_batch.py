"""Batch screening: each row equals screening that site alone; bad sites get error rows."""

from __future__ import annotations

import csv
import io
import json
import socket
import time
import zipfile

import numpy as np
import pytest
import shapely

from app.cli import main
from benchmarks import stressdata
from spatial.batch import chunks as batch
from spatial.batch.daskrun import run_dask
from spatial.batch.jobs import JobManager
from spatial.errors import RedlineError
from spatial.project import Project
from spatial.screening import evaluation
from spatial.service import ScreeningRequest
from spatial.verdict import read_verdict

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


def test_api_batch_rows_equal_single_screenings(client, runtime, reviewer_headers):
    r = client.post("/api/v1/screenings/batch", headers=reviewer_headers, json={
        "sites": FC, "radius_m": 100, "project": {"industry": "K7010", "nature": "new"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 4 and body["counts"]["error"] == 2
    rows = {row["site_id"]: row for row in body["rows"]}
    for sid, industry in (("A", "C2614"), ("B", "K7010")):
        alone = runtime.service.evaluate(ScreeningRequest(
            site=next(s for s in SITES if s["properties"]["id"] == sid)["geometry"],
            radius_m=100, project={"industry": industry, "nature": "new"}))
        assert rows[sid]["verdict"] == alone["verdict"]
        assert rows[sid]["forbid_rules"] == [f["rule_id"] for f in alone["findings"]
                                             if f["verdict"] == "forbid"]
    assert rows["A"]["verdict"] == "forbid" and rows["B"]["verdict"] == "pass"
    assert rows["C"]["error_code"] == "site.axis_swapped"
    assert rows["D"]["error_code"] == "site.missing"


def test_api_batch_limits(client, reviewer_headers):
    many = {"type": "FeatureCollection", "features": [SITES[1]] * 201}
    r = client.post("/api/v1/screenings/batch?mode=sync", json={"sites": many},
                    headers=reviewer_headers)
    assert r.status_code == 413 and r.json()["code"] == "batch.too_large"
    r = client.post("/api/v1/screenings/batch", json={"sites": {"type": "Point"}},
                    headers=reviewer_headers)
    assert r.status_code == 422 and r.json()["code"] == "batch.not_feature_collection"
    r = client.post("/api/v1/screenings/batch", json={"sites": FC})
    assert r.status_code == 401
    r = client.get("/api/v1/screenings/batch/nope", headers=reviewer_headers)
    assert r.status_code == 404 and r.json()["code"] == "batch.job_not_found"


def test_cli_batch_writes_csv_and_geojson_with_progress(demo_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REDLINE_HOME", str(demo_home))
    sites = tmp_path / "parcels.geojson"
    sites.write_text(json.dumps(FC), encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["batch", str(sites), "--industry", "K7010", "--nature", "new",
                 "--radius-m", "100", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "批量筛查" in captured.err and "4/4" in captured.err and "error 2" in captured.out
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["verdict"] for r in table] == ["forbid", "pass", "error", "error"]
    assert "jialing-1km-chemical-risk-ban" in table[0]["forbid_rules"]
    gj = tmp_path / "out.geojson"
    assert main(["batch", str(sites), "--industry", "K7010", "--nature", "new",
                 "--out", str(gj)]) == 0
    fc = json.loads(gj.read_text(encoding="utf-8"))
    assert len(fc["features"]) == 4 and fc["features"][0]["properties"]["site_id"] == "A"
    assert main(["batch", str(tmp_path / "nope.geojson"), "--out", str(gj)]) == 2


# -- bulk path, worker processes, Dask, jobs ----------------------------------------------

SHAPINGBA = ("500106",)


def _alone(runtime, features, opts):
    """Rows as screening each site alone through the single-screening entry point."""
    out = []
    for i, f in enumerate(features):
        ident, req = batch.request_for(f, opts)
        base = {"index": i, "site_id": ident["site_id"] if ident["site_id"] is not None else i}
        try:
            out.append(batch.row_from_verdict(base, read_verdict(runtime.service.evaluate(req))))
        except RedlineError as exc:
            out.append(batch.error_row(base, exc.code, exc.message_zh))
    return out


@pytest.fixture(scope="module")
def parcels():
    """400 seeded parcels in 沙坪坝 (where the demo layers are) and 200 across Chongqing."""
    near = stressdata.parcels(400, seed=11, adcodes=SHAPINGBA, broken_share=0.02)["features"]
    far = stressdata.parcels(200, seed=12)["features"]
    return near + far


def test_bulk_rows_are_identical_to_screening_each_site_alone(runtime, parcels):
    opts = batch.BatchOptions({"nature": "new"}, radius_m=80)
    rows = batch.screen_chunk(runtime.service, parcels, opts)
    assert rows == _alone(runtime, parcels, opts)
    c = batch.counts(rows)
    # the fixture must exercise every outcome, or the equality above proves little
    assert c["forbid"] > 10 and c["restrict"] > 10 and c["indeterminate"] > 10 and c["error"] > 3
    assert any(r["nearest_m"].get("嘉陵江") for r in rows)


@pytest.mark.slow
def test_worker_processes_and_dask_give_the_in_process_rows(runtime, parcels):
    opts = batch.BatchOptions({"industry": "C2614", "nature": "new"})
    expected = batch.screen_chunk(runtime.service, parcels, opts)
    source = batch.data_source(runtime.service, runtime.settings.rules_dir)
    seen = []
    pooled = [r for chunk in batch.run(source, parcels, opts, workers=2, chunk=97,
                                       progress=lambda d, t, rate: seen.append((d, t)))
              for r in chunk]
    assert pooled == expected
    assert seen[-1] == (len(parcels), len(parcels)) and len(seen) == -(-len(parcels) // 97)
    dasked = [r for chunk in run_dask(source, parcels, opts, workers=2, partitions=5)
              for r in chunk]
    assert dasked == expected


def test_a_failing_site_gets_an_error_row_and_the_batch_goes_on(runtime, parcels, monkeypatch):
    real = evaluation.screen

    def flaky(site, *args, **kwargs):
        if abs(site.footprint.centroid.x - bad_x) < 1e-9:
            raise RuntimeError("boom")
        return real(site, *args, **kwargs)

    good = [f for f in parcels[:20] if f["geometry"]["type"] == "Point"]
    bad_x = good[1]["geometry"]["coordinates"][0]
    monkeypatch.setattr(evaluation, "screen", flaky)
    rows = batch.screen_chunk(runtime.service, good, batch.BatchOptions({}))
    assert [r["verdict"] == "error" for r in rows] == [i == 1 for i in range(len(good))]
    assert rows[1]["error_code"] == "internal.site_failed" and "boom" not in rows[1]["error"]


def _wait(client, headers, job_id, until=("done", "cancelled", "failed"), timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = client.get(f"/api/v1/screenings/batch/{job_id}", headers=headers).json()
        if st["status"] in until:
            return st
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {st['status']}")


@pytest.mark.slow
def test_api_job_progress_results_and_cancel(client, runtime, reviewer_headers, parcels):
    fc = {"type": "FeatureCollection", "features": parcels}
    r = client.post("/api/v1/screenings/batch", headers=reviewer_headers,
                    json={"sites": fc, "project": {"industry": "C3011", "nature": "new"}})
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == job["links"]["self"] and job["total"] == len(parcels)
    st = _wait(client, reviewer_headers, job["id"])
    assert st["status"] == "done" and st["done"] == st["total"] == len(parcels)
    assert sum(st["counts"].values()) == len(parcels) and st["eta_s"] is None
    expected = batch.screen_chunk(runtime.service, parcels,
                                  batch.BatchOptions({"industry": "C3011", "nature": "new"}))
    gj = client.get(job["links"]["results_geojson"], headers=reviewer_headers)
    assert gj.status_code == 200 and gj.headers["redline-complete"] == "true"
    got = [{**f["properties"], "geometry": f["geometry"]} for f in gj.json()["features"]]
    assert got == expected
    table = list(csv.DictReader(io.StringIO(
        client.get(job["links"]["results_csv"], headers=reviewer_headers).content.decode("utf-8-sig"))))
    assert [t["verdict"] for t in table] == [e["verdict"] for e in expected]
    assert table[0]["距嘉陵江_m"] != "" or expected[0]["nearest_m"].get("嘉陵江") is None

    # a big job cancelled while it runs keeps the rows it finished, in order
    big = {"type": "FeatureCollection", "features": parcels * 10}
    job = client.post("/api/v1/screenings/batch", headers=reviewer_headers,
                      json={"sites": big}).json()
    deadline = time.monotonic() + 120
    st = client.get(job["links"]["self"], headers=reviewer_headers).json()
    while st["done"] == 0 and st["status"] in ("queued", "running") \
            and time.monotonic() < deadline:
        time.sleep(0.05)
        st = client.get(job["links"]["self"], headers=reviewer_headers).json()
    assert st["status"] == "running", st
    assert st["rate_per_s"] > 0 and st["eta_s"] > 0
    assert client.post(job["links"]["cancel"], headers=reviewer_headers).status_code == 200
    st = _wait(client, reviewer_headers, job["id"])
    assert st["status"] == "cancelled" and 0 < st["done"] < st["total"]
    rows = client.get(job["links"]["results_geojson"], headers=reviewer_headers)
    assert rows.headers["redline-complete"] == "false"
    assert [f["properties"]["index"] for f in rows.json()["features"]] == list(range(st["done"]))
    again = client.post(job["links"]["cancel"], headers=reviewer_headers)
    assert again.status_code == 409 and again.json()["code"] == "batch.job_finished"


def test_api_batch_from_an_uploaded_shapefile_in_gauss_kruger(client, reviewer_headers, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    points = [Point(106.451142, 29.618444), Point(106.332299, 29.557251)]
    gdf = gpd.GeoDataFrame({"name": ["甲", "乙"], "industry": ["C2614", "K7010"]},
                           geometry=points, crs="EPSG:4326").to_crs("EPSG:4545")
    gdf.to_file(tmp_path / "parcels.shp", encoding="UTF-8")
    zpath = tmp_path / "parcels.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            z.write(tmp_path / f"parcels.{ext}", f"parcels.{ext}")
    r = client.post("/api/v1/screenings/batch", headers=reviewer_headers,
                    files={"file": ("parcels.zip", zpath.read_bytes(), "application/zip")},
                    data={"project": json.dumps({"nature": "new"}), "radius_m": "100"})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [row["site_id"] for row in rows] == ["甲", "乙"]
    assert rows[0]["verdict"] == "forbid" and rows[1]["verdict"] == "pass"


@pytest.mark.slow
def test_an_interrupted_job_resumes_after_its_last_complete_chunk(runtime, parcels):
    jobs = JobManager(runtime.service, runtime.settings.rules_dir, workers=1)
    opts = batch.BatchOptions({"nature": "new"})
    expected = batch.screen_chunk(runtime.service, parcels, opts)
    # a job whose process died after writing 250 rows and half of the 251st
    job = jobs.submit(parcels, opts, created_by="test")
    jobs.wait(job["id"])
    path = jobs.root / job["id"] / "rows.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:250]) + lines[250][:40], encoding="utf-8")
    with runtime.store.connect() as con:
        con.execute("UPDATE batch_jobs SET status='running', done=250, runner=? WHERE id=?",
                    (f"{socket.gethostname()}:999999999:dead", job["id"]))
    assert jobs.resume_interrupted() == [job["id"]]
    st = jobs.wait(job["id"])
    assert st["status"] == "done" and st["done"] == len(parcels)
    assert list(jobs.rows(job["id"])) == expected


@pytest.mark.slow
def test_cli_batch_on_dask_with_a_progress_bar(demo_home, tmp_path, monkeypatch, capsys, parcels):
    monkeypatch.setenv("REDLINE_HOME", str(demo_home))
    sites = tmp_path / "parcels.geojson"
    sites.write_text(json.dumps({"type": "FeatureCollection", "features": parcels[:300]}),
                     encoding="utf-8")
    local, dask_out = tmp_path / "local.csv", tmp_path / "dask.csv"
    assert main(["batch", str(sites), "--industry", "C2614", "--out", str(local),
                 "--workers", "2"]) == 0
    assert main(["batch", str(sites), "--industry", "C2614", "--out", str(dask_out),
                 "--executor", "dask", "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert "300/300" in err and "批量筛查" in err
    assert local.read_bytes() == dask_out.read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_stress_generator_is_seeded_valid_and_realistic():
    a = stressdata.redline(600, seed=5)
    b = stressdata.redline(600, seed=5)
    assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()
    assert stressdata.redline(600, seed=6).geometry.to_wkb().tolist() != a.geometry.to_wkb().tolist()
    geoms = a.geometry.values
    assert shapely.is_valid(geoms).all()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    assert (i == j).all()  # patches never touch each other, as red-line patches
    verts = shapely.get_num_coordinates(geoms)
    assert verts.min() >= 10 and verts.max() >= 300 and 20 <= np.median(verts) <= 80
    assert (a.geom_type == "MultiPolygon").mean() > 0.03
    holes = shapely.get_num_interior_rings(shapely.get_geometry(geoms, 0))
    assert (holes > 0).mean() > 0.05
    p1 = stressdata.parcels(300, seed=9)
    assert p1 == stressdata.parcels(300, seed=9) and len(p1["features"]) == 300


def read_sites(runtime, features):
    """Each feature's screenable site, as a batch reads it; None for one it refuses."""
    out = []
    for f in features:
        try:
            out.append(runtime.service.prepare(batch.request_for(f, batch.BatchOptions({}))[1])[0])
        except RedlineError:
            out.append(None)
    return out


def test_nearest_search_equals_measuring_every_feature_within_10_km(runtime, parcels):
    """The widening nearest search reports what measuring every candidate would."""
    from spatial.geodesy import degree_margin, nearest_distance
    from spatial.screening.context import Context, clip_near
    from spatial.screening.nearest import CONSTRAINTS, REACH_M, nearest_constraints

    layers = runtime.service.layers()
    checked = 0
    for f, site in zip(parcels[:150], read_sites(runtime, parcels[:150]), strict=True):
        if site is None:
            continue
        ctx = Context.create(site, layers)
        # measured to the feature as drawn (a centreline with a width also reports its bank)
        got = {e.label_zh: (e.distance_to_centreline_m if e.distance_to_centreline_m is not None
                            else e.distance_m, (e.feature or {}).get("index"))
               for e in nearest_constraints(ctx)}
        for label, kind, flt in CONSTRAINTS:
            lay = layers.layers[kind]
            best = None
            for i in lay.candidates(site.footprint, flt,
                                    within_deg=degree_margin(REACH_M, ctx.lat)):
                part = clip_near(lay.geoms[i], site.footprint, degree_margin(REACH_M + 200, ctx.lat))
                d = nearest_distance(ctx.frame, ctx.site_local, part)[0]
                if best is None or d < best[0]:
                    best = (d, int(i))
            want = (round(best[0], 1), best[1]) if best and best[0] <= REACH_M else (None, None)
            assert got[label] == want, (f["properties"]["id"], label)
            checked += want[0] is not None
    assert checked > 300


def test_batch_inputs_that_are_refused_with_stable_codes(client, reviewer_headers, tmp_path):
    r = client.post("/api/v1/screenings/batch", headers=reviewer_headers,
                    files={"file": ("parcels.txt", b"hello", "text/plain")})
    assert r.status_code == 422 and r.json()["code"] == "batch.unsupported_format"
    r = client.post("/api/v1/screenings/batch", headers=reviewer_headers,
                    files={"file": ("parcels.geojson", b"\xff\xfe{", "application/json")})
    assert r.status_code == 422 and r.json()["code"] == "batch.unreadable"
    r = client.post("/api/v1/screenings/batch", headers=reviewer_headers,
                    files={"file": ("parcels.geojson", json.dumps({"type": "FeatureCollection",
                                                                   "features": []}).encode())})
    assert r.status_code == 422 and r.json()["code"] == "batch.not_feature_collection"
    r = client.post("/api/v1/screenings/batch?mode=fast", headers=reviewer_headers,
                    json={"sites": FC})
    assert r.status_code == 422
    with pytest.raises(RedlineError) as exc:
        batch.read_sites(tmp_path / "missing.geojson")
    assert exc.value.code == "file.not_found"


def test_who_may_still_be_running_a_job():
    """A restarted container keeps pid 1 but not its nonce; a silent other host goes stale."""
    from spatial.batch import jobs as jobs_mod

    me = jobs_mod._me()
    host, pid, _ = me.split(":")
    assert jobs_mod._alive(me, None)
    assert not jobs_mod._alive(f"{host}:{pid}:earlier", None)  # same pid, earlier incarnation
    assert not jobs_mod._alive(f"{host}:999999999:x", None)  # process gone
    assert jobs_mod._alive("other-host:1:x", time.time() - 60)
    assert not jobs_mod._alive("other-host:1:x", time.time() - jobs_mod.STALE_S - 1)


def test_csv_results_have_one_byte_order_mark(demo_home, tmp_path, monkeypatch):
    monkeypatch.setenv("REDLINE_HOME", str(demo_home))
    sites = tmp_path / "parcels.geojson"
    sites.write_text(json.dumps(FC), encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["batch", str(sites), "--out", str(out), "--no-progress"]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfindex,")


def test_a_file_with_several_layers_is_refused_not_half_read(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    path = tmp_path / "two.gpkg"
    for name in ("a", "b"):
        gpd.GeoDataFrame({"n": [1]}, geometry=[Point(106.4, 29.6)], crs="EPSG:4326").to_file(
            path, layer=name, driver="GPKG")
    with pytest.raises(RedlineError) as exc:
        batch.read_sites(path)
    assert exc.value.code == "batch.multiple_layers"


def test_quiet_answers_equal_evaluating(runtime, parcels):
    """A rule answered without evaluating (``Predicate.quiet``: nothing near the site) gets
    exactly the outcome evaluating it would give."""
    from spatial.screening.context import Context
    from spatial.screening.predicates import REGISTRY

    layers = runtime.service.layers()
    answered = 0
    for f, site in zip(parcels[:300], read_sites(runtime, parcels[:300]), strict=True):
        if site is None:
            continue
        for rule in runtime.service.ruleset.rules:
            ctx = Context.create(site, layers)
            quick = REGISTRY[rule.where.predicate].quiet(ctx, rule.where)
            if quick is None:
                continue
            full = REGISTRY[rule.where.predicate].evaluate(Context.create(site, layers),
                                                           rule.where)
            assert quick == full, (f["properties"]["id"], rule.id)
            answered += 1
    assert answered > 1000


def test_rules_found_quiet_in_bulk_are_the_rules_quiet_alone(runtime, parcels):
    """The bulk prefetch marks exactly the rules that ``Predicate.quiet`` would answer for the
    site alone (those with a quiet reach), which layers cover it, whether the dataset does, and
    the first nearest-search radius holding a matching feature; a site that could not be read
    gets nothing."""
    from spatial.batch.bulk import prefetch
    from spatial.screening.context import Context
    from spatial.screening.nearest import CONSTRAINTS, RADII_M
    from spatial.screening.predicates import REGISTRY

    layers = runtime.service.layers()
    rules = runtime.service.ruleset.rules
    sites = read_sites(runtime, parcels[:250])
    marked, answers, starts = 0, set(), set()
    for site, pre in zip(sites, prefetch(sites, runtime.service.ruleset.rules, layers), strict=True):
        if site is None:
            assert pre is None
            continue
        alone = set()
        for r in rules:
            pred, lay = REGISTRY[r.where.predicate], layers.layers.get(r.where.layer or "")
            if (lay is not None and pred.quiet_reach(r.where, lay, site.accuracy_m) is not None
                    and pred.quiet(Context.create(site, layers), r.where) is not None):
                alone.add(id(r.where))
        assert pre.quiet == alone
        marked += len(alone)
        assert pre.covered == {(k, None): bool(shapely.covers(lay.coverage, site.footprint))
                               for k, lay in layers.every.items() if lay.coverage is not None}
        answers.update(pre.covered.values())
        assert pre.inside == bool(shapely.covers(layers.coverage, site.footprint))
        ctx = Context.create(site, layers)
        first = {c: next((r for r, radius in enumerate(RADII_M)
                          if len(ctx.candidates(layers.layers[kind], site.footprint, flt, radius))),
                         None)
                 for c, (_, kind, flt) in enumerate(CONSTRAINTS) if kind in layers.layers}
        assert pre.nearest_from == first
        starts.update(first.values())
    assert marked > 2000 and answers == {True, False}
    assert starts == {None, *range(len(RADII_M))}


def test_reaching_into_a_feature_is_decided_as_by_shrinking_it(runtime, parcels):
    """Whether an overlap is more than the positional accuracy deep (not borderline): the
    witness shortcut gives the answer of shrinking the feature, for every parcel and every
    polygon feature it overlaps."""
    from spatial.screening.context import Context, local_feature
    from spatial.screening.predicates.overlap import reaches_inside

    layers = runtime.service.layers()
    seen = []
    for site in (s for s in read_sites(runtime, parcels) if s is not None):
        ctx = Context.create(site, layers)
        for lay in layers.layers.values():
            acc = lay.accuracy_m + site.accuracy_m
            for i in lay.query(site.footprint):
                if shapely.get_dimensions(lay.geoms[i]) != 2:
                    continue
                shrunk = ctx.site_local.intersects(
                    local_feature(ctx, lay.geoms[i], acc).buffer(-acc))
                assert reaches_inside(ctx, lay.geoms[i], acc) == shrunk, (lay.kind, int(i))
                seen.append(shrunk)
    assert len(seen) > 200 and 0 < sum(seen) < len(seen)


def test_the_bulk_plan_holds_every_question_a_screening_asks(runtime, parcels, monkeypatch):
    """The batch's plan is derived from the predicates' declared queries (and the screening's
    own): screening a site alone asks its footprint no question outside the plan (the nearest
    block, not a rule, widens its own search: tests above)."""
    from spatial.batch.bulk import plan
    from spatial.screening.lookup import SiteLookup

    asked: set[tuple[str, float]] = set()
    real, real_nearest = SiteLookup.hits, evaluation.nearest_constraints
    recording_on = [True]

    def recording(self, lay, reach_m):
        if recording_on[0]:
            asked.add((lay.kind, float(reach_m)))
        return real(self, lay, reach_m)

    def nearest_unrecorded(ctx):
        recording_on[0] = False
        try:
            return real_nearest(ctx)
        finally:
            recording_on[0] = True

    monkeypatch.setattr(SiteLookup, "hits", recording)
    monkeypatch.setattr(evaluation, "nearest_constraints", nearest_unrecorded)
    layers, ruleset = runtime.service.layers(), runtime.service.ruleset
    planned = plan(ruleset.rules, layers, 0.0)
    sites = [s for s in read_sites(runtime, parcels[:200]) if s is not None]
    projects = [Project.from_dict(p, ruleset.catalogue) for p in (
        {"industry": "C2614", "nature": "new"}, {"nature": "new"},
        {"industry": "K7010", "nature": "new", "type": "chemical_park"})]
    for k, site in enumerate(sites):
        evaluation.screen(site, projects[k % len(projects)], layers, ruleset)
    assert asked <= planned
    assert len(asked & planned) > 10  # the screenings asked most of the plan


def test_every_predicate_is_registered_with_its_declared_parameters():
    """The registry's names are the rule language's (specs), and a rule's parameters are
    checked against the spec of its predicate."""
    from typing import get_args

    from pydantic import ValidationError

    from spatial.predicate_specs import SPECS, PredicateName
    from spatial.ruleset import Where
    from spatial.screening.predicates import REGISTRY

    assert set(REGISTRY) == set(SPECS) == set(get_args(PredicateName))
    assert all(REGISTRY[n].spec is SPECS[n] for n in SPECS)
    Where(predicate="within_distance", layer="river", distance_m=1000)
    Where(predicate="outside", layer="river", min_overlap_m2=0)  # a zero minimum asks nothing
    for bad, why in ((dict(predicate="within_distance", layer="river"), "needs `distance_m`"),
                     (dict(predicate="outside", layer="river", distance_m=5), "takes no"),
                     (dict(predicate="anywhere", layer="river"), "takes no `layer`"),
                     (dict(predicate="inside_district"), "needs `adcodes`"),
                     (dict(predicate="anywhere", filter={"name": "x"}), "takes no `filter`")):
        with pytest.raises(ValidationError, match=why):
            Where(**bad)
