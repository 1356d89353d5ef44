"""Fingerprint the engine's answers, to show a refactor changes no verdict byte.

Screens ``--singles`` sites one by one (the whole verdict document, as the API stores it less
its id, time and links) and ``--rows`` parcels as a batch (each result row, and the verdict
document the batch path built for it), on the shipped demo data in a fresh data directory,
with a fixed mix of industries, natures, project types, activities and flags. Writes one
sha256 per item to ``--out`` (so a difference can be found) and prints the digest of all.

    python scripts/verdict_digest.py --out /tmp/before.txt
    ... refactor ...
    python scripts/verdict_digest.py --out /tmp/after.txt && cmp /tmp/before.txt /tmp/after.txt
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from app.settings import Settings
from app.state import open_runtime
from benchmarks import stressdata
from spatial.batch import chunks as batch
from spatial.batch.bulk import prefetch
from spatial.errors import RedlineError
from spatial.screening import evaluation
from spatial.service import ScreeningRequest, to_json

#: projects cycled through the sites: forbidden, restricted, exempted, unknown industry
PROJECTS: list[dict[str, Any]] = [
    {"industry": "C2614", "nature": "new"},
    {"industry": "C3011", "nature": "new", "flags": ["independent_grinding"]},
    {"industry": "C2614", "nature": "expansion"},
    {"industry": "C2614", "nature": "new", "type": "chemical_park"},
    {"industry": "C3130", "nature": "relocation"},
    {"nature": "new"},
    {"industry": "C", "nature": "new"},
    {"industry": "E4813", "nature": "new", "activity": ["linear_infrastructure"]},
    {"industry": "C2614", "nature": "new", "type": "tailings_pond", "flags": ["vocs"]},
    {"industry": "C2710", "nature": "new", "flags": ["heavy_metal_discharge", "outfall"]},
    {"industry": "A0111", "nature": "new"},
    {"industry": "C2511", "nature": "new", "flags": ["national_major"]},
    {"industry": "N7721", "nature": "new", "activity": ["eco_restoration"]},
]


def _digest(obj: Any) -> str:
    return hashlib.sha256(to_json(obj)).hexdigest()


def _parcels(n: int, seed: int) -> list[dict[str, Any]]:
    """Half in 沙坪坝 (every demo layer has data there), half anywhere in Chongqing."""
    near = stressdata.parcels(n // 2, seed=seed, adcodes=("500106",), broken_share=0.02)
    far = stressdata.parcels(n - n // 2, seed=seed + 1, broken_share=0.02)
    feats = near["features"] + far["features"]
    for k, (f, p) in enumerate(zip(feats, itertools.cycle(PROJECTS))):
        f["properties"] = {"id": f"p{k}", **p}
    return feats


def run(singles: int, rows: int, out: Path) -> str:
    home = Path(tempfile.mkdtemp(prefix="redline-digest-"))
    eng = open_runtime(Settings(home=home))
    lines: list[str] = []
    tally: Counter[str] = Counter()
    t0 = time.perf_counter()
    for k, f in enumerate(_parcels(singles, 11)):
        props = f["properties"]
        req = ScreeningRequest(site=f["geometry"], project={
            key: props[key] for key in batch.PROJECT_KEYS if key in props})
        try:
            doc: Any = eng.service.evaluate(req)
        except RedlineError as exc:
            doc = {"error": exc.code}
        tally[doc.get("verdict", "error")] += 1
        lines.append(f"single {k} {_digest(doc)}")
    t1 = time.perf_counter()
    feats = _parcels(rows, 23)
    opts = batch.BatchOptions({"nature": "new"})
    for a in range(0, len(feats), batch.CHUNK):
        chunk = feats[a:a + batch.CHUNK]
        for row in batch.screen_chunk(eng.service, chunk, opts, a):
            tally[row["verdict"]] += 1
            lines.append(f"row {row['index']} {_digest(row)}")
        # the documents behind the rows, built on the batch's prefetched answers
        sv = eng.service
        prepared = []
        for f in chunk:
            try:
                prepared.append(sv.prepare(batch.request_for(f, opts)[1]))
            except RedlineError:
                continue
        layers = sv.layers()
        rules = evaluation.rules_for([p for _, p in prepared], sv.ruleset)
        known = prefetch([s for s, _ in prepared], rules, layers)
        for k, ((site, project), pre) in enumerate(zip(prepared, known, strict=True)):
            verdict = evaluation.screen(site, project, layers, sv.ruleset, pre)
            lines.append(f"batchdoc {a}+{k} {_digest(verdict.as_doc())}")
    t2 = time.perf_counter()
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    total = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    print(f"{singles} screenings in {t1 - t0:.1f} s, {rows} batch rows in {t2 - t1:.1f} s; "
          f"{len(lines)} items {dict(tally)}; digest {total}")
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--singles", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=6000)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    run(args.singles, args.rows, args.out)


if __name__ == "__main__":
    main()
