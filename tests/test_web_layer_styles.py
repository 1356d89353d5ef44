"""The web page draws a vector layer only if app/static/app.js has a LAYER_STYLES entry for its
kind (others are silently left off the map and the layer control), so every kind must have one."""

from __future__ import annotations

import re
from pathlib import Path

from spatial.layers.kinds import KINDS

APP_JS = Path(__file__).resolve().parents[1] / "app" / "static" / "app.js"


def _layer_styles() -> dict[str, str]:
    """LAYER_STYLES as written in app.js (one entry a line): kind -> layer name."""
    js = APP_JS.read_text(encoding="utf-8")
    block = re.search(r"^const LAYER_STYLES = \{\n(.*?)^\};", js, re.M | re.S)
    assert block, "LAYER_STYLES table not found in app.js"
    entry = r'^ {2}(\w+): \{ name: "([^"]+)", style: \{[^{}]*\}, on: (?:true|false) \},$'
    return dict(re.findall(entry, block.group(1), re.M))


def test_every_layer_kind_has_a_page_style():
    """Every kind in spatial.layers.kinds.KINDS (read at run time) has a style, and the page styles
    no kind that does not exist."""
    styles = _layer_styles()
    assert sorted(set(KINDS) - set(styles)) == []
    assert sorted(set(styles) - set(KINDS)) == []


def test_layer_names_are_unique_and_chinese():
    """The layer control is keyed by name, so two kinds with one name would hide one of them."""
    names = list(_layer_styles().values())
    assert len(names) == len(set(names))
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in names)
