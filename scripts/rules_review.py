"""Write docs/rules-review.md: one row per shipped rule, generated from rules/*.yaml.

The table is the legal-review worksheet: the clause each rule cites and where its text comes
from, what the rule applies to, its spatial predicate and verdict, the tool's interpretation
(``interpretation_zh``) and whether the quote is verified. It is generated so it cannot drift
from the rules: ``tests/legal/test_rules_review.py`` fails when the committed file differs.

Verified is the rule's ``basis.verified`` (docs/rule-format.md): true by default exactly when the
quote is taken from a seed text with a line reference (checked against the seed by
tests/test_rules_schema.py); false for a statute or policy quote whose published text is not
stored in the repository, and where a rule sets it false on a seed quote that does not by itself
carry the verdict. As a safeguard a quote that is only a zone name or says 待核对 is never
``yes`` (tests/legal/test_p13_citations.py forbids both).

Run: ``python scripts/rules_review.py`` (writes), ``python scripts/rules_review.py --check``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spatial.ruleset import ProjectFilter, Rule, load_ruleset  # noqa: E402

OUT = ROOT / "docs" / "rules-review.md"
_NORM = re.compile(r"禁止|不得|严格|严控|应当|限制|控制|管理|实行|落实|不再|坚决|允许|须|必须|保护")

HEADER = """# Rules review (generated)

One row per rule in `rules/*.yaml`, written by `python scripts/rules_review.py`; do not edit by
hand (a test compares this file with the script's output). Columns: rule id; the clause cited
(document, clause); where the quoted text comes from (a seed file and line, or the statute);
what the rule applies to (industries / excluded industries / nature / type / flags /
activity — a relocation counts as new wherever `new` is listed, see docs/rule-format.md
"Nature"); the spatial predicate; the verdict and its exceptions; the tool's interpretation
(`interpretation_zh`); verified.

**Verified** is the rule's `basis.verified` (docs/rule-format.md). It is `yes` only where the
quote comes from a seed text with a line reference (checked against the seed by the tests). It is
`no` — shown to the user as 依据待核实 — where the quote is from a statute or policy document
whose text is not stored in the repository (the quote is as published to the best of our
knowledge but nothing checks it mechanically), and where the rule marks a seed quote that does
not by itself carry the verdict (e.g. the 四山 zone rules, whose zoning comes from the 四山
regulation). Rows marked `no` need a reviewer with the official text.

| id | clause | text from | applies to | predicate | verdict | interpretation | verified |
|---|---|---|---|---|---|---|---|
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _filter(f: ProjectFilter) -> str:
    parts = []
    for key in ("industries", "not_industries", "nature", "type", "flags", "activity"):
        value = getattr(f, key)
        if value is not None:
            label = "not " if key == "not_industries" else f"{key} "
            parts.append(f"{'industries ' if key == 'industries' else label}{', '.join(value)}")
    if not f.relocation_as_new:
        parts.append("relocation_as_new false")
    return "; ".join(parts) or "all projects"


def _predicate(r: Rule) -> str:
    w = r.where
    out = w.predicate
    if w.layer:
        out += f" {w.layer}"
    if w.filter:
        out += " " + ", ".join(f"{k}={v if not isinstance(v, list) else '/'.join(map(str, v))}"
                               for k, v in w.filter.items())
    if w.distance_m:
        out += f" ≤ {w.distance_m:g} m"
    if w.adcodes:
        out += " " + "/".join(w.adcodes)
    if w.raster:
        out += f" raster {w.raster}"
    if w.districts:
        out += f" (districts {'/'.join(w.districts)})"
    return out


def _verdict(r: Rule) -> str:
    out = r.verdict
    for e in r.exceptions:
        out += f"; → {e.verdict} when {_filter(e.when)}"
    return out


def _source(r: Rule) -> str:
    b = r.basis
    if b.source.startswith("seed:"):
        return f"{b.source} {b.lines}" if b.lines else b.source
    return f"{b.source}: {b.document} {b.clause}"


def verified(r: Rule) -> str:
    """yes / no with the reason (see the module docstring)."""
    b = r.basis
    if "待核对" in b.clause or "待核对" in b.quote or "未逐字核对" in b.clause:
        return "no (条号待核对)"
    if is_zone_name_only(b.quote):
        return "no (quote is only a zone name)"
    if b.verified:
        return "yes (seed)"
    if b.source.startswith("seed:"):
        return "no (依据待核实: seed quote does not carry the verdict; see interpretation)"
    return "no (依据待核实: published text not stored; not machine-checked)"


def is_zone_name_only(quote: str) -> bool:
    """A short quote with no normative word (禁止, 严格, 应当, …) only names a zone."""
    return len(quote) <= 12 and not _NORM.search(quote)


def render() -> str:
    """The whole file."""
    rs = load_ruleset(ROOT / "rules")
    rows = []
    for r in rs.rules:
        b = r.basis
        rows.append("| " + " | ".join(_cell(c) for c in [
            f"`{r.id}`", f"{b.document} {b.clause}：「{b.quote}」", _source(r),
            _filter(r.applies_to), _predicate(r), _verdict(r), r.interpretation_zh or "–",
            verified(r)]) + " |")
    return HEADER + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python scripts/rules_review.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({text.count(chr(10)) - HEADER.count(chr(10))} rules)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
