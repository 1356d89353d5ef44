"""Browser tests: real Debian Chromium (headless) driven by Playwright against the running
service. Fails on any console error or any request to a host other than the service."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.server import running_service

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (.ci/run installs)")
ARTIFACTS = Path("test-artifacts")
JIALING_600M = (106.451142, 29.618444)
CLEAR_SPB = (106.332299, 29.557251)


@pytest.fixture(scope="module")
def service(demo_home):
    with running_service(demo_home) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser, service):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    pg = ctx.new_page()
    problems: list[str] = []
    host = urlparse(service).netloc
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
          if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("request", lambda r: problems.append(f"foreign request: {r.url}")
          if urlparse(r.url).netloc not in (host, "") and not r.url.startswith("data:") else None)
    pg.problems = problems  # type: ignore[attr-defined]
    pg.goto(service + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    assert problems == [], problems
    ctx.close()


def _click_at(page, lon: float, lat: float) -> None:
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate(
        "([lat, lon]) => { const p = window.redlineMap.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }", [lat, lon])
    page.mouse.click(box["x"] + x, box["y"] + y)


def _pick_industry(page, text: str, code: str) -> None:
    page.fill("#industry", text)
    page.wait_for_selector(f"#industry-list li[data-code='{code}']")
    page.click(f"#industry-list li[data-code='{code}']")


def _draw_square(page, lon: float, lat: float, d: float = 0.002) -> None:
    page.evaluate("([lat, lon]) => { window.redlineMap.setView([lat, lon], 15); }", [lat, lon])
    page.click("#draw-polygon")
    corners = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
    for c in corners:
        _click_at(page, *c)
    _click_at(page, *corners[0])  # clicking the first vertex closes the polygon
    page.wait_for_selector("text=已绘制面状场址")


def test_draw_polygon_in_jialing_ring_choose_c2614_and_see_forbid(page):
    _draw_square(page, *JIALING_600M)
    _pick_industry(page, "C2614", "C2614")
    page.select_option("#nature", "new")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    assert page.inner_text("#badge") == "禁止"
    assert "嘉陵江岸线一公里" in page.inner_text("#findings")
    assert "边界待核" in page.inner_text("#findings")
    page.hover("#findings li:first-child")
    page.screenshot(path=str(ARTIFACTS / "web-forbid.png"))
    share = page.get_attribute("#share", "href")
    assert "?id=" in share


def test_upload_geojson_file_and_see_verdict(page, tmp_path):
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": list(CLEAR_SPB)}}), encoding="utf-8")
    page.set_input_files("#file", str(site))
    _pick_industry(page, "房地产", "K7010")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    assert page.inner_text("#badge") == "通过"
    page.screenshot(path=str(ARTIFACTS / "web-upload-pass.png"))


def test_compare_two_sites(page):
    _draw_square(page, *JIALING_600M)
    _pick_industry(page, "C2614", "C2614")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    page.click("#add-compare")
    first = page.get_attribute("#share", "href")
    page.click("#clear")
    _draw_square(page, *CLEAR_SPB)
    page.click("#submit")
    page.wait_for_function("(first) => document.querySelector('#share').href !== first", arg=first)
    page.click("#add-compare")
    table = page.inner_text("#compare-table")
    assert "方案1" in table and "方案2" in table and "距嘉陵江(米)" in table
    page.screenshot(path=str(ARTIFACTS / "web-compare.png"))


def test_shared_link_reopens_a_screening_and_english_toggle(page, service):
    _draw_square(page, *CLEAR_SPB)
    _pick_industry(page, "K7010", "K7010")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    share = page.get_attribute("#share", "href")
    page.goto(share)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#result:not([hidden])")
    assert page.inner_text("#badge") == "通过"
    page.click("#lang")
    assert page.inner_text("#badge") == "Pass" and "screening" in page.inner_text("h1").lower()


def test_phone_viewport_and_keyboard(browser, service):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(service + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert pg.locator("#map").bounding_box()["height"] > 300
    # the title keeps its width beside the demo banner and the language button (it was
    # squeezed to one character per line)
    assert pg.locator("header h1").bounding_box()["width"] > 300
    pg.focus("#industry")
    pg.keyboard.type("C3011")
    pg.wait_for_selector("#industry-list li")
    pg.keyboard.press("ArrowDown")
    pg.keyboard.press("Enter")
    assert pg.input_value("#industry").startswith("C3011")
    for sel in ("#industry", "#nature", "#ptype", "#file", "#crs", "#radius", "#width"):
        label = pg.locator(f"label[for='{sel[1:]}']")
        assert label.count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "web-phone.png"), full_page=True)
    assert errors == []
    ctx.close()


def test_raster_finding_shows_share_and_thumbnail(page):
    jinyun_core = (106.312309, 29.728557)
    _draw_square(page, *jinyun_core, d=0.003)
    _pick_industry(page, "K7010", "K7010")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    assert "栅格占比" in page.inner_text("#findings")
    item = page.locator("#findings li", has_text="极重要").first
    item.click()
    page.wait_for_selector("img.leaflet-image-layer")
    page.screenshot(path=str(ARTIFACTS / "web-raster.png"))
