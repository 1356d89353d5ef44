"""GB/T 4754-2017 industry catalogue: the full code table, named categories, synonyms, suggestions.

The codes and their official names come from ``rules/gbt4754-2017.csv`` (the complete table:
20 门类, 97 大类, 473 中类, 1 381 小类); ``rules/industries.yaml`` holds the named categories
rules refer to and ``rules/industry-synonyms.yaml`` the everyday words search understands.
A code outside the table is refused (``industry.unknown``) with suggestions.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spatial.errors import InputError, RuleFileError

_CODE_RE = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")
_LEVELS = {"1": "section", "2": "division", "3": "group", "4": "class"}
CODES_FILE = "gbt4754-2017.csv"
SYNONYMS_FILE = "industry-synonyms.yaml"


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
class Synonym:
    """An everyday word (化工, 养猪, 加油站) and the GB/T 4754 codes it stands for."""

    word: str
    codes: tuple[str, ...]
    note_zh: str


@dataclass(frozen=True)
class Industry:
    """A resolved project industry: the code, its name and the categories it belongs to."""

    code: str
    name_zh: str
    categories: tuple[str, ...]
    known_exactly: bool = True  # every accepted code is in the GB/T 4754-2017 table

    def as_dict(self) -> dict[str, Any]:
        """JSON form used in the verdict document."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "categories": list(self.categories),
            "known_exactly": self.known_exactly,
        }


def read_code_table(path: Path) -> dict[str, dict[str, Any]]:
    """The GB/T 4754-2017 table: code → {name_zh, level, note_zh}, in the standard's order.

    The table gives a 中类 row only where the 中类 has several 小类; a 中类 with one 小类 (code
    ending in 0, e.g. C3110 炼铁) shares that 小类's name and is derived here, so all 473 exist.
    """
    codes: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["code"].strip()
            level = _LEVELS.get(row["level"].strip())
            if level is None or not _CODE_RE.match(code):
                raise ValueError(f"{path.name}: bad row {row!r}")
            if level == "class":
                group = code[:4]
                if group not in codes:
                    codes[group] = {"name_zh": row["name_zh"].strip(), "level": "group",
                                    "note_zh": "", "derived": True}
            codes[code] = {"name_zh": row["name_zh"].strip(), "level": level,
                           "note_zh": (row.get("note_zh") or "").strip()}
    return codes


class IndustryCatalogue:
    """The complete GB/T 4754-2017 code table, the categories rules refer to, and synonyms."""

    def __init__(self, codes: dict[str, dict[str, Any]], categories: dict[str, Category],
                 synonyms: tuple[Synonym, ...] = (), source_paths: tuple[Path, ...] = ()):
        self.codes = codes
        self.categories = categories
        self.synonyms = synonyms
        #: the files the catalogue was read from (hashed into the rule-set version)
        self.source_paths = source_paths
        self._division_section = {c[1:]: c[0] for c in codes if len(c) == 3}
        self._resolved: dict[str, Industry] = {}

    @classmethod
    def load(cls, path: Path) -> IndustryCatalogue:
        """Read ``industries.yaml`` with the code table and synonyms beside it; raises
        RuleFileError naming every problem (a category code not in the table, …)."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RuleFileError([f"{path.name}: cannot read: {exc}"]) from exc
        table = path.parent / str(raw.get("codes_file") or CODES_FILE)
        try:
            codes = read_code_table(table)
        except (OSError, ValueError, KeyError) as exc:
            raise RuleFileError([f"{table.name}: cannot read the GB/T 4754 table: {exc}"]) from exc
        problems: list[str] = []
        if raw.get("codes"):
            problems.append(f"{path.name}: codes: the codes come from {table.name}, not this file")
        cats: dict[str, Category] = {}
        for name, body in (raw.get("categories") or {}).items():
            prefixes = tuple(str(c) for c in body.get("codes", []))
            excluded = tuple(str(c) for c in body.get("exclude", []))
            for key, values in (("codes", prefixes), ("exclude", excluded)):
                problems.extend(f"{path.name}: categories.{name}.{key}: {p} is not a GB/T "
                                f"4754-2017 code" for p in values if p not in codes)
            if not str(body.get("note_zh") or "").strip():
                problems.append(f"{path.name}: categories.{name}.note_zh: missing (say what the "
                                f"category holds and why)")
            cats[name] = Category(
                name=name,
                name_zh=body.get("name_zh", name),
                name_en=body.get("name_en", name),
                codes=prefixes,
                exclude=excluded,
                note_zh=str(body.get("note_zh") or "").strip(),
            )
        syn_path = path.parent / str(raw.get("synonyms_file") or SYNONYMS_FILE)
        synonyms = _load_synonyms(syn_path, codes, problems) if syn_path.exists() else ()
        if problems:
            raise RuleFileError(problems)
        paths = (path, table, *((syn_path,) if syn_path.exists() else ()))
        return cls(codes, cats, synonyms, paths)

    def normalise(self, code: str) -> str:
        """Upper-case, strip, and add the section letter to a digits-only code (2614 → C2614)."""
        code = code.strip().upper().replace(" ", "")
        if code.isdigit() and len(code) in (2, 3, 4):
            section = self._division_section.get(code[:2])
            if section:
                code = section + code
        return code

    def resolve(self, raw_code: str) -> Industry:
        """Resolve a project's industry code; a code not in GB/T 4754-2017 raises InputError
        (``industry.unknown``) with suggestions."""
        code = self.normalise(raw_code)
        hit = self._resolved.get(code)
        if hit is None:
            hit = self._resolve(raw_code, code)
            if len(self._resolved) < 10_000:
                self._resolved[code] = hit  # a batch asks the same few codes again and again
        return hit

    def _resolve(self, raw_code: str, code: str) -> Industry:
        entry = self.codes.get(code)
        if entry is None:
            raise InputError(
                f"未知的国民经济行业代码：{raw_code}（不在GB/T 4754-2017中）",
                f"Unknown GB/T 4754-2017 industry code: {raw_code}",
                code="industry.unknown",
                details={"suggestions": self.suggest(raw_code)},
            )
        return Industry(code=code, name_zh=entry["name_zh"], categories=self.categories_of(code))

    def categories_of(self, code: str) -> tuple[str, ...]:
        """Names of the categories ``code`` falls in, sorted."""
        return tuple(sorted(n for n, c in self.categories.items() if c.contains(code)))

    def synonym_codes(self, text: str) -> list[tuple[Synonym, str]]:
        """(synonym, code) pairs for the synonyms ``text`` names: an exact word first, then
        words contained in the text (养猪场 → 养猪) or containing it (加油 → 加油站)."""
        q = text.strip()
        if not q:
            return []
        exact = [s for s in self.synonyms if s.word == q]
        near = [s for s in self.synonyms if s.word != q and (s.word in q or q in s.word)]
        return [(s, c) for s in [*exact, *near] for c in s.codes]

    def suggest(self, text: str, limit: int = 5) -> list[dict[str, str]]:
        """Nearest valid codes to ``text``: by synonym, code spelling and Chinese name."""
        q = self.normalise(text)
        by_synonym = [c for _, c in self.synonym_codes(text)]
        by_code = difflib.get_close_matches(q, list(self.codes), n=limit, cutoff=0.5)
        by_prefix = [c for c in self.codes if q and c.startswith(q[:3])][:limit]
        names = {v["name_zh"]: k for k, v in self.codes.items()}
        by_name = [names[n] for n in difflib.get_close_matches(text, list(names), n=limit)]
        seen: list[str] = []
        for c in [*by_synonym, *by_code, *by_prefix, *by_name]:
            if c not in seen:
                seen.append(c)
        return [{"code": c, "name_zh": self.codes[c]["name_zh"]} for c in seen[:limit]]

    def search(self, q: str, limit: int = 20) -> list[dict[str, Any]]:
        """Codes named by a synonym of ``q`` (化工, 养猪, 加油站…), then codes starting with
        ``q`` or whose official Chinese name contains it."""
        text = q.strip()
        qn = self.normalise(text) if text else ""
        hits: dict[str, str | None] = {}
        for syn, code in self.synonym_codes(text):
            hits.setdefault(code, syn.word)
        for c, v in self.codes.items():
            if not text or c.startswith(qn) or text in v["name_zh"]:
                hits.setdefault(c, None)
        out = []
        for c, word in list(hits.items())[:limit]:
            item: dict[str, Any] = {"code": c, "name_zh": self.codes[c]["name_zh"],
                                    "level": self.codes[c].get("level"),
                                    "categories": list(self.categories_of(c))}
            if word is not None:
                item["synonym"] = word
            out.append(item)
        return out

    def interpretations(self, tokens: list[str] | None,
                        industry: Industry | None) -> list[dict[str, str]]:
        """For a finding: each category among ``tokens`` (a rule's ``applies_to.industries``)
        that the project's industry falls in, with the category's note — the tool's reading of
        the clause's words (化工项目, 建材, …) shown to the user."""
        if not tokens or industry is None:
            return []
        return [{"category": t, "name_zh": self.categories[t].name_zh,
                 "interpretation_zh": self.categories[t].note_zh}
                for t in tokens if t in self.categories and t in industry.categories]

    def is_reference(self, token: str) -> bool:
        """True when a rule's industry token is a category name or a GB/T 4754-2017 code."""
        return token in self.categories or token in self.codes

    def classes(self) -> list[str]:
        """Every 小类 code, in the standard's order."""
        return [c for c, v in self.codes.items() if v.get("level") == "class"]


def _load_synonyms(path: Path, codes: dict[str, dict[str, Any]],
                   problems: list[str]) -> tuple[Synonym, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: cannot read: {exc}")
        return ()
    out = []
    for word, body in (raw.get("synonyms") or {}).items():
        body = body or {}
        entry_codes = tuple(str(c) for c in body.get("codes") or [])
        if not entry_codes:
            problems.append(f"{path.name}: synonyms.{word}.codes: empty")
        problems.extend(f"{path.name}: synonyms.{word}.codes: {c} is not a GB/T 4754-2017 code"
                        for c in entry_codes if c not in codes)
        note = str(body.get("note_zh") or "").strip()
        if not note:
            problems.append(f"{path.name}: synonyms.{word}.note_zh: missing (why these codes)")
        out.append(Synonym(str(word), entry_codes, note))
    return tuple(out)


def category_table_markdown(catalogue: IndustryCatalogue) -> str:
    """docs/industry-categories.md: every 小类 with the categories it falls in, or 无 (none),
    then every category with its note — so a reviewer sees each category's breadth."""
    cats = catalogue.categories
    lines = [
        "# 行业小类与分类对照 / GB/T 4754-2017 classes and rule categories",
        "",
        "Generated by `python scripts/industry_table.py` from `rules/gbt4754-2017.csv` and",
        "`rules/industries.yaml`; do not edit by hand (a test checks it is current).",
        "Each of the 1 381 小类 of GB/T 4754-2017 is listed with every named category it falls",
        "in; **无** means it is in none, i.e. no category-based rule concerns it (rules that name",
        "codes or prefixes directly still may).",
        "",
        "## 分类 / Categories",
        "",
        "| 分类 | 名称 | 代码 | 排除 | 小类数 | 说明（解释） |",
        "|---|---|---|---|---|---|",
    ]
    classes = catalogue.classes()
    for name, c in cats.items():
        n = sum(1 for code in classes if c.contains(code))
        note = c.note_zh.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | {c.name_zh} | {', '.join(c.codes)} | {', '.join(c.exclude) or '–'} "
                     f"| {n} | {note} |")
    lines += ["", "## 小类 / Classes", "", "| 代码 | 名称 | 分类 |", "|---|---|---|"]
    for code in classes:
        names = catalogue.categories_of(code)
        lines.append(f"| {code} | {catalogue.codes[code]['name_zh']} | "
                     f"{', '.join(f'`{n}`' for n in names) if names else '无'} |")
    return "\n".join(lines) + "\n"
