#!/usr/bin/env python3
"""Write docs/industry-categories.md: every GB/T 4754-2017 小类 and the categories it falls in.

Run after changing rules/industries.yaml: ``python scripts/industry_table.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spatial.industries import IndustryCatalogue, category_table_markdown  # noqa: E402

OUT = ROOT / "docs" / "industry-categories.md"


def main() -> None:
    """Regenerate the table."""
    catalogue = IndustryCatalogue.load(ROOT / "rules" / "industries.yaml")
    OUT.write_text(category_table_markdown(catalogue), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
