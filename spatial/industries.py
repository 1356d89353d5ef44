"""GB/T 4754-2017 industry catalogue: code lookup, named categories, suggestions for typos."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spatial.errors import InputError, RuleFileError

_CODE_RE = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")


@dataclass(frozen=True)
class Category:
    """A named industry category used by rules (e.g. ``chemical``), as code prefixes."""

    name: str
    name_zh: str
    name_en: str
    codes: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    note_zh: str = ""

    def contains(self, code: str) -> bool:
        """True when ``code`` falls under one of the prefixes and none of the exclusions."""
        return any(code.startswith(p) for p in self.codes) and not any(
            code.startswith(p) for p in self.exclude
        )


@dataclass(frozen=True)
class Industry:
    """A resolved project industry: the code, its name and the categories it belongs to."""

    code: str
    name_zh: str
    categories: tuple[str, ...]
    known_exactly: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON form used in the verdict document."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "categories": list(self.categories),
            "known_exactly": self.known_exactly,
        }


class IndustryCatalogue:
    """The GB/T 4754-2017 codes we carry and the categories rules refer to."""

    def __init__(self, codes: dict[str, dict[str, Any]], categories: dict[str, Category]):
        self.codes = codes
        self.categories = categories
        self._division_section = {c[1:]: c[0] for c in codes if len(c) == 3}
        self._resolved: dict[str, Industry] = {}

    @classmethod
    def load(cls, path: Path) -> IndustryCatalogue:
        """Read and check ``industries.yaml``; raises RuleFileError naming the problem."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RuleFileError([f"{path.name}: cannot read: {exc}"]) from exc
        problems: list[str] = []
        codes = raw.get("codes") or {}
        for code in codes:
            if not _CODE_RE.match(str(code)):
                problems.append(f"{path.name}: codes.{code}: not a GB/T 4754 code")
        cats: dict[str, Category] = {}
        for name, body in (raw.get("categories") or {}).items():
            prefixes = tuple(str(c) for c in body.get("codes", []))
            for p in (*prefixes, *body.get("exclude", [])):
                if str(p) not in codes:
                    problems.append(f"{path.name}: categories.{name}.codes: unknown code {p}")
            cats[name] = Category(
                name=name,
                name_zh=body.get("name_zh", name),
                name_en=body.get("name_en", name),
                codes=prefixes,
                exclude=tuple(str(c) for c in body.get("exclude", [])),
                note_zh=body.get("note_zh", ""),
            )
        if problems:
            raise RuleFileError(problems)
        return cls({str(k): v for k, v in codes.items()}, cats)

    def normalise(self, code: str) -> str:
        """Upper-case, strip, and add the section letter to a digits-only code (2614 → C2614)."""
        code = code.strip().upper().replace(" ", "")
        if code.isdigit() and len(code) in (2, 3, 4):
            section = self._division_section.get(code[:2])
            if section:
                code = section + code
        return code

    def resolve(self, raw_code: str) -> Industry:
        """Resolve a project's industry code; unknown codes raise InputError with suggestions."""
        code = self.normalise(raw_code)
        hit = self._resolved.get(code)
        if hit is None:
            hit = self._resolve(raw_code, code)
            if len(self._resolved) < 10_000:
                self._resolved[code] = hit  # a batch asks the same few codes again and again
        return hit

    def _resolve(self, raw_code: str, code: str) -> Industry:
        entry = self.codes.get(code)
        known = entry is not None
        if entry is None:
            # A well-formed class code under a division we carry is accepted: categories are
            # prefix-based, so the division decides. The name says the class is not catalogued.
            division = self.codes.get(code[:3]) if _CODE_RE.match(code) and len(code) > 3 else None
            if division is None:
                raise InputError(
                    f"未知的国民经济行业代码：{raw_code}",
                    f"Unknown GB/T 4754-2017 industry code: {raw_code}",
                    code="industry.unknown",
                    details={"suggestions": self.suggest(raw_code)},
                )
            entry = {"name_zh": f"{division['name_zh']}(小类 {code} 未收录，按大类判定)"}
        cats = tuple(sorted(n for n, c in self.categories.items() if c.contains(code)))
        return Industry(code=code, name_zh=entry["name_zh"], categories=cats, known_exactly=known)

    def suggest(self, text: str, limit: int = 5) -> list[dict[str, str]]:
        """Nearest valid codes to ``text`` by code spelling and by Chinese name."""
        q = self.normalise(text)
        by_code = difflib.get_close_matches(q, list(self.codes), n=limit, cutoff=0.5)
        by_prefix = [c for c in self.codes if q and c.startswith(q[:3])][:limit]
        names = {v["name_zh"]: k for k, v in self.codes.items()}
        by_name = [names[n] for n in difflib.get_close_matches(text, list(names), n=limit)]
        seen: list[str] = []
        for c in [*by_code, *by_prefix, *by_name]:
            if c not in seen:
                seen.append(c)
        return [{"code": c, "name_zh": self.codes[c]["name_zh"]} for c in seen[:limit]]

    def search(self, q: str, limit: int = 20) -> list[dict[str, Any]]:
        """Codes whose code starts with ``q`` or whose Chinese name contains it."""
        qn = self.normalise(q) if q else ""
        hits = [
            c for c, v in self.codes.items()
            if not q or c.startswith(qn) or q.strip() in v["name_zh"]
        ]
        return [
            {"code": c, "name_zh": self.codes[c]["name_zh"], "level": self.codes[c].get("level"),
             "categories": sorted(n for n, cat in self.categories.items() if cat.contains(c))}
            for c in hits[:limit]
        ]

    def is_reference(self, token: str) -> bool:
        """True when a rule's industry token is a category name or a catalogued code/prefix."""
        return token in self.categories or token in self.codes
