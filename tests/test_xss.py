"""Hostile strings in everything a user controls must stay text on every HTML page the service
renders: the web page, the map preview, the printable report, the layer validation report and
the API docs. Driven in real Chromium against a real server; a page fails on any dialog, any
console error, any CSP violation and any request to another host. Every page is also checked
without a browser: a CSP whose script-src allows no inline script, and no inline script.

The hostile strings go into the feature properties of uploaded layer versions (values and
names), the layer version's title, the uploading token's name, a site file's attributes and the
project's fields."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import geopandas as gpd
import httpx
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from app.settings import Settings
from app.state import open_runtime
from spatial.tokens import TokenStore
from tests.conftest import copy_home
from tests.server import running_service
from tests.test_web import CHROMIUM, browser  # noqa: F401  (a fixture)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (.ci/run installs)")

HOSTILE = ["<img src=x onerror=alert(1)>", "'-alert(2)-'", "${alert(3)}", "`+alert(4)+`",
           '"><script>alert(5)</script>', "</script><script>alert(6)</script>",
           "<!--<script>alert(7)//", "\u2028alert(8)//"]
ALL = " ".join(HOSTILE)
SITE = (106.332299, 29.557251)  # passes for housing on the demo data
#: one red-line square per hostile string, 500 m apart; a screening of each spot hits one
SPOTS = [(SITE[0] + 0.005 * i, SITE[1]) for i in range(len(HOSTILE))]


def _props(i: int) -> dict[str, Any]:
    """Extra attributes whose names and values are hostile."""
    return {f"{h}_{i}": HOSTILE[(i + k + 1) % len(HOSTILE)] for k, h in enumerate(HOSTILE)}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, pristine_home):
    """A running service whose active layers, uploads and screenings carry hostile strings."""
    home = copy_home(pristine_home, tmp_path_factory.mktemp("xss-home") / "home")
    runtime = open_runtime(Settings(home=home))
    token, _ = TokenStore(runtime.store).create(ALL, "gis_admin", actor="tests")
    active = runtime.store.active_versions()
    frames = {kind: runtime.store.read(active[kind])
              for kind in ("eco_redline", "river", "admin_district")}
    work = tmp_path_factory.mktemp("xss-files")
    with running_service(home) as url, httpx.Client(base_url=url, timeout=120, headers={
            "Authorization": f"Bearer {token}"}) as api:
        versions = []

        def upload(kind: str, gdf: gpd.GeoDataFrame, title: str) -> httpx.Response:
            path = work / f"{kind}-{len(versions)}.geojson"
            gdf.to_file(path, driver="GeoJSON")
            r = api.post(f"/api/v1/layers/{kind}/versions", files={"file": (path.name,
                                                                          path.read_bytes())},
                         data={"accuracy_m": "10", "title": title, "notes": ALL,
                               "publisher": ALL})
            return r

        # red-line polygons under the site, one per hostile name, with hostile attributes
        red = gpd.GeoDataFrame(pd.DataFrame([{"name": h, "code": h, **_props(i)}
                                             for i, h in enumerate(HOSTILE)]),
                               geometry=[box(x - 0.001, y - 0.001, x + 0.001, y + 0.001)
                                         for x, y in SPOTS], crs="EPSG:4326")
        # rivers 2 km north of the spots (in every map's view), one per hostile name
        rivers = gpd.GeoDataFrame(pd.DataFrame([{"name": h, "class": "tributary", **_props(i)}
                                                for i, h in enumerate(HOSTILE)]),
                                  geometry=[LineString([(x - 0.002, y + 0.02), (x + 0.002,
                                                                                y + 0.02)])
                                            for x, y in SPOTS], crs="EPSG:4326")
        districts = frames["admin_district"].copy()
        holders = districts.geometry.apply(lambda g: any(g.contains(Point(s)) for s in SPOTS))
        districts.loc[holders, "name"] = ALL
        for kind, gdf in (("eco_redline", pd.concat([frames["eco_redline"], red])),
                          ("river", pd.concat([frames["river"], rivers])),
                          ("admin_district", districts)):
            r = upload(kind, gpd.GeoDataFrame(gdf, crs="EPSG:4326"), ALL)
            assert r.status_code == 201, r.text
            version = r.json()["version"]["version"]
            versions.append((kind, version))
            r = api.post(f"/api/v1/layers/{kind}/activate", json={"version": version})
            assert r.status_code == 200, r.text
        # a version that fails validation: its report lists the hostile values
        bad = gpd.GeoDataFrame(pd.DataFrame([{"name": h, "class": h, **_props(i)}
                                             for i, h in enumerate(HOSTILE)]),
                               geometry=rivers.geometry.values, crs="EPSG:4326")
        r = upload("river", bad, ALL)
        assert r.status_code == 422, r.text
        versions.append(("river", _version_of(r.json())))

        anon = httpx.Client(base_url=url, timeout=120)
        docs = []
        for h, spot in zip(HOSTILE, SPOTS, strict=True):
            doc = anon.post("/api/v1/screenings", json={
                "site": {"type": "Point", "coordinates": list(spot)}, "radius_m": 50,
                "project": {"industry": "K7010", "nature": "new", "name": h}}).json()
            assert doc["verdict"] == "forbid", doc
            assert [f["feature"]["name"] for f in doc["findings"]
                    if f["layer"] and f["layer"]["kind"] == "eco_redline"] == [h]
            docs.append((h, doc))
        site_file = work / f"{ALL[:20]}.geojson".replace("/", "_")
        site_file.write_text(json.dumps({"type": "FeatureCollection", "name": ALL, "features": [{
            "type": "Feature", "properties": {"name": ALL, **_props(0)},
            "geometry": {"type": "Point", "coordinates": list(SPOTS[0])}}]}), encoding="utf-8")
        r = anon.post("/api/v1/screenings", files={"file": (site_file.name,
                                                            site_file.read_bytes())},
                      data={"project": json.dumps({"industry": "K7010", "name": ALL}),
                            "radius_m": "50"})
        assert r.status_code == 201, r.text
        docs.append((HOSTILE[0], r.json()))
        anon.close()
        yield {"url": url, "docs": docs, "versions": versions,
               "site_file": site_file}


def _version_of(problem: dict[str, Any]) -> str:
    details = problem.get("details") or {}
    version = details.get("version") or (details.get("layer_version") or {}).get("version")
    assert version, problem
    return str(version)


def _pages(hostile) -> list[str]:
    """Every HTML page: the web page (also with a shared screening), map, report, validation
    reports, API docs."""
    docs = [d for _, d in hostile["docs"]]
    pages = ["/", *(f"/?id={d['id']}" for d in docs), "/docs"]
    for d in docs:
        pages += [d["links"]["map"], d["links"]["report"]]
    pages += [f"/api/v1/layers/{k}/versions/{v}/report" for k, v in hostile["versions"]]
    return pages


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.handlers += [k for k in a if k.startswith("on")]
        if tag == "script" and "src" not in a:
            self._in = a.get("type") or "text/javascript"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None and self._in != "application/json" and data.strip():
            self.inline.append(data[:80])


def _directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}


def test_every_html_page_has_a_csp_without_inline_script(hostile):
    problems: list[str] = []
    with httpx.Client(base_url=hostile["url"], timeout=60) as c:
        for path in _pages(hostile):
            r = c.get(path)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
            d = _directives(r.headers.get("content-security-policy", ""))
            if d.get("script-src") != ["'self'"]:
                problems.append(f"{path}: script-src {d.get('script-src')}")
            if "'unsafe-inline'" in d.get("style-src", ["'unsafe-inline'"]):
                problems.append(f"{path}: style-src {d.get('style-src')}")
            if (d.get("default-src") != ["'self'"] or d.get("object-src") != ["'none'"]
                    or d.get("frame-ancestors") != ["'none'"] or d.get("base-uri") != ["'none'"]):
                problems.append(f"{path}: CSP {d}")
            parser = _Scripts()
            parser.feed(r.text)
            problems += [f"{path}: inline script {s!r}" for s in parser.inline[:2]]
            problems += [f"{path}: event handler attribute {a}" for a in parser.handlers[:2]]
        if c.get("/redoc").status_code != 404:
            problems.append("/redoc is served")
    assert problems == [], "\n".join(problems)


_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
  `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""
# the tooltips of every feature whose name is hostile, so that their text is in the page
_OPEN_TOOLTIPS = """(names) => {
  const map = window.redlineMap || window.redlinePreview
    || Object.values(window).find((v) => window.L && v instanceof L.Map);
  let opened = 0;
  map.eachLayer((l) => {
    const p = l.feature && l.feature.properties;
    if (p && names.some((n) => String(p.name || '').includes(n)) && l.getTooltip()) {
      l.openTooltip(); opened += 1;
    }
  });
  return opened;
}"""


class _Watched:
    """A page that records dialogs, console errors, page errors, CSP violations and requests
    to other hosts."""

    def __init__(self, browser, url: str):  # noqa: F811
        self.ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.problems: list[str] = []
        host = urlparse(url).netloc

        def on_dialog(d):  # type: ignore[no-untyped-def]
            self.problems.append(f"dialog {d.type}: {d.message}")
            d.dismiss()

        pg = self.page
        pg.on("dialog", on_dialog)
        # (a page without an icon makes Chromium ask for /favicon.ico, a 404: not a problem)
        pg.on("console", lambda m: self.problems.append(
            f"console {m.type}: {m.text} ({m.location.get('url')})")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None)
        pg.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        pg.on("request", lambda r: self.problems.append(f"foreign request: {r.url}")
              if urlparse(r.url).netloc not in (host, "") and not r.url.startswith("data:")
              else None)
        pg.add_init_script(_WATCH)

    def report(self, where: str) -> list[str]:
        """What went wrong on this page so far (and forget it)."""
        found = self.problems + [f"CSP violation: {v}" for v in self.page.evaluate("window.__csp")]
        self.problems = []
        self.page.evaluate("window.__csp = []")
        return [f"{where}: {p}" for p in found]

    def close(self) -> None:
        self.ctx.close()


@pytest.fixture
def watched(browser, hostile):  # noqa: F811
    pages: list[_Watched] = []

    def open_(path: str) -> Any:
        w = _Watched(browser, hostile["url"])
        pages.append(w)
        w.page.goto(hostile["url"] + path)
        return w

    yield open_
    for w in pages:
        w.close()


def _shown(text: str, strings: list[str], where: str) -> list[str]:
    """A problem for each string not in ``text`` (as text, not markup)."""
    return [f"{where}: not shown as text: {s!r}" for s in strings if s.strip() not in text]


def test_web_page_shows_hostile_strings_as_text(watched, hostile):
    failures: list[str] = []
    for h, doc in hostile["docs"]:
        w = watched(f"/?id={doc['id']}")
        pg = w.page
        pg.wait_for_selector("body[data-ready='1']", timeout=60_000)
        pg.wait_for_selector("#result:not([hidden])")
        for li in pg.locator("#findings li").all():
            li.hover()
        failures += _shown(pg.inner_text("#findings"), [h], f"{h} findings")
        if (n := pg.evaluate(_OPEN_TOOLTIPS, HOSTILE)) < 2 * len(HOSTILE):  # red line, rivers
            failures.append(f"{h}: only {n} hostile tooltips on the map")
        failures += _shown(pg.inner_text("#map"), HOSTILE, f"{h} map tooltips")
        pg.click("#add-compare")
        failures += _shown(pg.inner_text("#compare-table"), [ALL], f"{h} compare table")
        failures += w.report(f"web page {h}")
    assert failures == [], "\n".join(failures)


def test_web_page_upload_of_a_hostile_site_file(watched, hostile):
    w = watched("/")
    pg = w.page
    pg.wait_for_selector("body[data-ready='1']", timeout=60_000)
    pg.set_input_files("#file", str(hostile["site_file"]))
    pg.fill("#industry", "K7010")
    pg.wait_for_selector("#industry-list li[data-code='K7010']")
    pg.click("#industry-list li[data-code='K7010']")
    pg.fill("#radius", "50")
    pg.click("#submit")
    pg.wait_for_selector("#result:not([hidden])")
    assert pg.inner_text("#badge") == "禁止"
    failures = _shown(pg.inner_text("#findings"), [HOSTILE[0]], "findings")
    failures += w.report("web page upload")
    assert failures == [], "\n".join(failures)


def test_map_preview_shows_hostile_strings_as_text(watched, hostile):
    failures: list[str] = []
    for h, doc in hostile["docs"]:
        w = watched(doc["links"]["map"])
        pg = w.page
        pg.wait_for_selector(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg",
                             timeout=30_000)
        pg.wait_for_selector(".leaflet-control-layers")
        # rivers, the district and the red-line square hit
        if (n := pg.evaluate(_OPEN_TOOLTIPS, [*HOSTILE, ALL])) < len(HOSTILE) + 2:
            failures.append(f"{h}: only {n} hostile tooltips on the map")
        text = pg.inner_text("body")
        failures += _shown(text, [*HOSTILE, ALL], f"{h} map preview")
        failures += _shown(text, ["图例", "场址", "区县界", "河流", "距离控制线", "禁止"],
                           f"{h} map preview")
        failures += w.report(f"map preview {h}")
    assert failures == [], "\n".join(failures)


def test_reports_show_hostile_strings_as_text(watched, hostile):
    failures: list[str] = []
    for h, doc in hostile["docs"]:
        w = watched(doc["links"]["report"])
        text = w.page.inner_text("body")
        failures += _shown(text, [h, ALL, "筛查报告"], f"{h} report")  # the hit, the district
        if w.page.locator("svg").count() < 1:
            failures.append(f"{h} report: no map")
        failures += w.report(f"report {h}")
    for kind, version in hostile["versions"]:
        w = watched(f"/api/v1/layers/{kind}/versions/{version}/report")
        text = w.page.inner_text("body")
        failures += _shown(text, [ALL, "图层校验报告"], f"validation report {kind} {version}")
        failures += w.report(f"validation report {kind} {version}")
    w = watched(f"/api/v1/layers/river/versions/{hostile['versions'][-1][1]}/report")
    failures += _shown(w.page.inner_text("body"), HOSTILE, "validation errors")
    failures += w.report("validation errors")
    assert failures == [], "\n".join(failures)


def test_api_docs_work_offline_under_a_strict_policy(watched, hostile):
    w = watched("/docs")
    pg = w.page
    pg.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "Chongqing red-line site screening" in pg.inner_text(".swagger-ui .info .title")
    pg.wait_for_selector(".opblock-summary-path")
    pg.locator(".opblock-summary", has_text="/api/v1/rules").first.click()
    pg.wait_for_selector(".try-out__btn")
    assert w.report("/docs") == []


def test_vendored_swagger_ui_carries_its_licence():
    vendor = Path(__file__).resolve().parents[1] / "app" / "static" / "vendor" / "swagger-ui"
    assert "Apache License" in (vendor / "LICENSE").read_text(encoding="utf-8")
    assert re.search(r"swagger-ui", (vendor / "NOTICE").read_text(encoding="utf-8"))
