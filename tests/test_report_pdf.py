"""The printable report as PDF, rendered by headless Chromium and checked as an image."""

from __future__ import annotations

import shutil
import subprocess

import pytest

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
    reason="needs Debian chromium and poppler-utils (.ci/run installs them)")


@needs_chromium
def test_pdf_report_renders_to_a_page_image(client, tmp_path):
    doc = client.post("/api/v1/screenings", json={
        "site": {"type": "Point", "coordinates": [106.451142, 29.618444]}, "radius_m": 80,
        "project": {"industry": "C2614", "nature": "new"}}).json()
    r = client.get(doc["links"]["report"], params={"format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(r.content)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 10_000  # a real page with a map and tables, not a blank sheet
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60).stdout
    assert "禁止" in text and doc["id"] in text and "嘉陵江" in text
    artifacts = __import__("pathlib").Path("test-artifacts")
    artifacts.mkdir(exist_ok=True)
    shutil.copy(png, artifacts / "report-page1.png")


def test_html_report_embeds_the_static_map(client):
    doc = client.post("/api/v1/screenings", json={
        "site": {"type": "Point", "coordinates": [106.451142, 29.618444]}, "radius_m": 80,
        "project": {"industry": "C2614", "nature": "new"}}).json()
    html = client.get(doc["links"]["report"]).text
    assert "<svg" in html and "场址示意图" in html and "<script" not in html
