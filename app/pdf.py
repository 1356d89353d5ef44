"""HTML → PDF with headless Chromium's print-to-PDF (a real renderer, fonts and print CSS)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from spatial.errors import RedlineError

#: Flags that keep Chromium off the network and quiet in a sandbox without a display.
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-extensions", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw"]


class PdfUnavailable(RedlineError):
    """No Chromium to print with, or it failed."""

    default_code = "report.pdf_unavailable"


#: Each print starts a Chromium (~0.5–1 GB); at most two at a time per process.
_PRINTERS = threading.BoundedSemaphore(2)


def html_to_pdf(html: str, chromium: str) -> bytes:
    """Print a self-contained HTML page to PDF bytes (at most two renders at once)."""
    if not _PRINTERS.acquire(timeout=30):
        raise PdfUnavailable("PDF 生成繁忙，请稍后重试", "PDF rendering is busy; retry later")
    try:
        return _render(html, chromium)
    finally:
        _PRINTERS.release()


def _render(html: str, chromium: str) -> bytes:
    exe = shutil.which(chromium)
    if exe is None:
        raise PdfUnavailable("服务器未安装 Chromium，暂不能生成PDF；请使用浏览器打印HTML报告",
                             "Chromium is not installed; print the HTML report instead")
    with tempfile.TemporaryDirectory(prefix="redline-pdf-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(html, encoding="utf-8")
        try:
            subprocess.run([exe, *_FLAGS, f"--user-data-dir={tmp}/profile",
                            f"--print-to-pdf={out}", src.as_uri()],
                           capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable("生成PDF超时", "PDF rendering timed out") from exc
        if not out.exists() or out.stat().st_size == 0:
            raise PdfUnavailable("生成PDF失败，请使用浏览器打印HTML报告", "PDF rendering failed")
        return out.read_bytes()
