"""Benchmark suite (outside the unit tests): ``python -m benchmarks`` prints the results and
writes docs/benchmarks.md with the machine it ran on. Every ratio compares against a baseline
measured in the same run. ``--quick`` runs everything at small scale (a smoke test of the
harness; its numbers are not the targets' scale).

Needs root for ``apt-get`` the first time (wrk, PostgreSQL + PostGIS, gdal-bin) and the bench
extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from benchmarks import baselines, http, inprocess, raster_zonal, stresshome

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    """CPU model, cores, memory and Python version of this machine."""
    cpu = platform.processor()
    if Path("/proc/cpuinfo").exists():
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh
                        if line.startswith("model name")), cpu)
    mem = ""
    if Path("/proc/meminfo").exists():
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(fh.readline().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def profile_batch(home: Path, n: int = 2000) -> str:
    """Where a batch chunk spends its time (pyinstrument, one process, stress set)."""
    from pyinstrument import Profiler

    from app.settings import Settings
    from app.state import open_engine
    from benchmarks import stressdata
    from spatial import batch

    engine = open_engine(Settings(home=home), seed=False)
    feats = stressdata.parcels(n, seed=99)["features"]
    opts = batch.BatchOptions({"nature": "new"})
    batch.screen_chunk(engine.service, feats[:100], opts)
    prof = Profiler(interval=0.0005)
    prof.start()
    for a in range(0, n, batch.CHUNK):
        batch.screen_chunk(engine.service, feats[a:a + batch.CHUNK], opts, a)
    prof.stop()
    text = prof.output_text(unicode=False, color=False, show_all=False)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("  _", " /_", "/ "))]
    return "\n".join(lines[:60])


SECTIONS = ("single", "naive", "postgis", "zonal", "batch", "http", "profile")


def run(quick: bool, only: set[str], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every measurement in one run (baselines included); with ``previous`` and ``only``, the
    sections not listed are taken from the earlier run's results."""
    from app.settings import Settings
    from app.state import open_engine

    n_stress = 10_000 if quick else stresshome.STRESS_N
    n_batch = 5_000 if quick else 100_000
    seconds = 4 if quick else 15
    out: dict[str, Any] = dict(previous or {})
    out.update(machine=machine(), quick=quick)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out["measured_at"] = {**out.get("measured_at", {}), **{s: now for s in only}}
    t0 = time.perf_counter()
    demo = stresshome.demo_home()
    stress = stresshome.stress_home(n_stress)
    out["stress_build"] = (stress / ".ready").read_text(encoding="utf-8").split()
    out["setup_s"] = time.perf_counter() - t0
    homes = (("demo", demo), ("stress", stress))
    sites = inprocess.sites_100()
    for name, home in homes:
        if "single" in only:
            print(f"[{name}] single screening …", flush=True)
            out[f"single_{name}"] = inprocess.single(home, rounds=1 if quick else 3)
        service = open_engine(Settings(home=home), seed=False).service
        if "naive" in only:
            print(f"[{name}] naive geopandas baseline …", flush=True)
            out[f"naive_{name}"] = baselines.naive_geopandas(service, sites[:50] if quick
                                                             else sites)
        if "postgis" in only:
            print(f"[{name}] PostGIS baseline …", flush=True)
            out[f"postgis_{name}"] = baselines.postgis(service, sites[:50] if quick else sites)
    if "zonal" in only:
        print("raster zonal …", flush=True)
        out["zonal"] = raster_zonal.run()
    if "batch" in only:
        print(f"batch throughput, {n_batch} parcels …", flush=True)
        out["batch"] = inprocess.batch_throughput(stress, n_batch)
    for name, home in homes:
        if "http" in only:
            print(f"[{name}] HTTP …", flush=True)
            out[f"http_{name}"] = http.run(home, seconds=seconds)
            if name == "stress":
                out["http_stress_input_order"] = http.run(home, seconds=seconds, clients=(32,),
                                                          order="input")
    if "profile" in only:
        print("profile …", flush=True)
        out["profile"] = profile_batch(stress, 500 if quick else 2000)
    return out


def _pg(res: dict[str, Any], variant: str) -> str:
    v = res.get(variant)
    return f"{v['p50_ms']:.1f} ms (p99 {v['p99_ms']:.0f})" if v else "—"


def _spread(v: dict[str, Any]) -> str:
    return ", ".join(f"{x['rps']:.0f} ({x['p99_ms']:.0f})" for x in v.get("runs", []))


def _ok(ok: bool) -> str:
    return "✅" if ok else "❌"


def report(r: dict[str, Any]) -> str:
    """docs/benchmarks.md from the results."""
    s, sd = r["single_stress"], r["single_demo"]
    ns, ps = r["naive_stress"], r["postgis_stress"]
    b, z = r["batch"], r["zonal"]
    h = {int(k): v for k, v in r["http_stress"]["clients"].items()}
    hd = {int(k): v for k, v in r["http_demo"]["clients"].items()}
    hi = {int(k): v for k, v in r.get("http_stress_input_order", {"clients": {}})["clients"].items()}
    rss_d, rss_s = r["http_demo"]["rss"], r["http_stress"]["rss"]
    naive_ratio = ns["p50_ms"] / s["p50_ms"]
    pg_ratio = ps["p50_ms"] / s["p50_ms"]
    stress_n = s["features"].get("eco_redline")
    lines = [
        "# Benchmarks",
        "",
        f"Run {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {r['machine']} by "
        f"`python -m benchmarks{' --quick' if r['quick'] else ''}` (writes this file). "
        "All ratios are against baselines measured in the same run.",
        "",
        "Sections measured at: " + "; ".join(
            f"{when}: {', '.join(sorted(k for k, w in r.get('measured_at', {}).items() if w == when))}"
            for when in sorted(set(r.get("measured_at", {}).values()))) + ".",
        "",
        f"Stress set: the demo layers with the red line replaced by {stress_n:,} synthetic "
        "polygons (`benchmarks/stressdata.py`, seeded; 10–4 000 vertices each, median 42, "
        "multipart and holes; imported through the normal validated import: "
        f"{' '.join(r['stress_build'])}).",
        "",
        "| measure | result | target (DESIGN §10, issue 6) | met |",
        "|---|---|---|---|",
        f"| one in-process screening, 100-vertex site, all layers incl. rasters, **stress set** "
        f"(n={s['n']}) | p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms | p50 ≤ 10 ms, "
        f"p99 ≤ 50 ms | {_ok(s['p50_ms'] <= 10 and s['p99_ms'] <= 50)} |",
        f"| the same, demo set | p50 {sd['p50_ms']:.1f} ms, p99 {sd['p99_ms']:.1f} ms | — | |",
        f"| batch, {b['n']:,} parcels, {b['workers']} worker processes, stress set | "
        f"{b['pool_per_s']:.0f} sites/s ({b['pool_wall_s']:.0f} s wall incl. start-up) | "
        f"≥ 2 000 sites/s | {_ok(b['pool_per_s'] >= 2000)} |",
        f"| batch on Dask (LocalCluster, {b['workers']} workers, dask-geopandas) | "
        f"{b['dask_per_s']:.0f} sites/s ({b['dask_wall_s']:.0f} s wall incl. cluster start, "
        f"shuffle) | identical rows to in-process | "
        f"{_ok(b['identical_dask_vs_pool'])} identical: {b['identical_dask_vs_pool']} |",
        f"| batch, one process (first 5 000 parcels) | {b['one_process_per_s']:.0f} sites/s | — "
        f"| identical to pooled: {b['identical_pool_vs_one']} |",
        f"| HTTP, 32 clients, uvicorn 2 workers, stress set | {h[32]['rps']:.0f} req/s, "
        f"p50 {h[32]['p50_ms']:.0f} ms, p99 {h[32]['p99_ms']:.0f} ms | ≥ 200 req/s, "
        f"p99 ≤ 200 ms | {_ok(h[32]['rps'] >= 200 and h[32]['p99_ms'] <= 200)} |",
        f"| peak RSS per service worker, demo set | {rss_d['max_worker_mb']:.0f} MB | ≤ 400 MB "
        f"| {_ok(rss_d['max_worker_mb'] <= 400)} |",
        f"| peak RSS per service worker, stress set | {rss_s['max_worker_mb']:.0f} MB | ≤ 2 GB "
        f"| {_ok(rss_s['max_worker_mb'] <= 2048)} |",
        f"| vs naive geopandas (same checks, stress set) | {ns['p50_ms']:.0f} ms p50 → "
        f"**{naive_ratio:.0f}×** slower than us | ≥ 50× | {_ok(naive_ratio >= 50)} |",
        f"| vs PostGIS (same checks in one SQL statement, GiST, faster of as-loaded and "
        f"subdivided, stress set) | "
        f"{ps['p50_ms']:.1f} ms p50 → **{pg_ratio:.2f}×** our time | ≥ 1× (not slower) | "
        f"{_ok(pg_ratio >= 1)} |",
        f"| zonal share, 30 m raster of {z['cells'] / 1e6:.1f} M cells, 1 km² site | "
        f"p50 {z['p50_ms']:.2f} ms, p99 {z['p99_ms']:.2f} ms | ≤ 20 ms | "
        f"{_ok(z['p99_ms'] <= 20)} |",
        "",
        "## HTTP (wrk from a separate process, 200 different 100-vertex sites, full verdict "
        "stored and returned)",
        "",
        "| set | clients | req/s | p50 ms | p99 ms | non-2xx | runs: req/s (p99 ms) |",
        "|---|---|---|---|---|---|---|",
        *[f"| {name} | {c} | {v['rps']:.0f} | {v['p50_ms']:.1f} | {v['p99_ms']:.1f} | "
          f"{v['non_2xx']} | {_spread(v)} |" for name, hh in (("demo", hd), ("stress", h),
                                                               ("stress, input order", hi))
          for c, v in hh.items()],
        "",
        "Each row is the median (by throughput) of three runs of "
        f"{r['http_stress'].get('seconds', '')} s; the last column lists all three. The "
        "machine is a shared 2-core VM whose speed drifts by tens of per cent over minutes, "
        "and wrk runs on the same two cores as the service.",
        "",
        "Each wrk thread cycles through the 200 sites in a seeded shuffled order, so the "
        "requests in flight are a mix of the 100 sites in 沙坪坝 (where every layer has data; "
        f"about {s.get('dense_ratio', float('nan')):.1f}× the work) and the 100 elsewhere. "
        "The *input order* row sends the 沙坪坝 sites first, then the others: all requests in "
        "flight are then of one kind for stretches, and p99 measures the slow stretch.",
        "",
        "## Baselines (p50 per site, the engine's layer questions only — no rule logic)",
        "",
        "| set | ours (full screening) | naive geopandas | PostGIS as loaded | "
        "PostGIS, ST_Subdivide 256 | PostGIS load + index |",
        "|---|---|---|---|---|---|",
        *[f"| {name} | {r[f'single_{name}']['p50_ms']:.1f} ms | "
          f"{r[f'naive_{name}']['p50_ms']:.1f} ms | {_pg(r[f'postgis_{name}'], 'plain')} | "
          f"{_pg(r[f'postgis_{name}'], 'subdivided')} | "
          f"{r[f'postgis_{name}']['load_s']:.0f} s |" for name in ("demo", "stress")],
        "",
        f"Each baseline answers the {r['postgis_stress'].get('checks', '')} layer questions one "
        "screening asks (`spatial.bulk.plan`): overlap area where the reach is 0, nearest "
        "distance within the reach otherwise. Ours is the whole screening (all rules, rasters, "
        "nearest block, verdict document).",
        "",
        "## Where a batch spends its time (pyinstrument, one process, stress set)",
        "",
        "```",
        r["profile"],
        "```",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run every benchmark, print the table and write docs/benchmarks.md."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--quick", action="store_true", help="small scale smoke run")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/.cache/results.json"),
                    help="raw results (also read by --only)")
    ap.add_argument("--only", help=f"re-measure only these sections ({','.join(SECTIONS)}); "
                                   "the others come from --json of an earlier run")
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else set(SECTIONS)
    previous = json.loads(a.json.read_text(encoding="utf-8")) if a.only else None
    results = run(a.quick, only, previous)
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str),
                      encoding="utf-8")
    text = report(results)
    if not a.quick:
        DOCS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
