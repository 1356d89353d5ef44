"""In-process benchmarks: one screening (p50/p99) and batch throughput, in this process, in
worker processes and on Dask (LocalCluster, 2 workers), with a row-for-row identity check."""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from app.settings import Settings
from app.state import Runtime, open_runtime
from benchmarks import stressdata
from spatial.batch import chunks as batch
from spatial.batch.daskrun import run_dask
from spatial.service import ScreeningRequest, to_json

M_PER_DEG = 110_574.0


def sites_100(n: int = 200, seed: int = 3) -> list[dict[str, Any]]:
    """``n`` 100-vertex polygon sites (≈ 600 m across): half in 沙坪坝 (where every demo layer
    has data), half anywhere in Chongqing, plus the fixed one 600 m from the Jialing."""
    near = stressdata.parcels(n // 2, seed=seed, adcodes=("500106",), broken_share=0)
    far = stressdata.parcels(n - n // 2, seed=seed + 1, broken_share=0)
    centres = [_centre(f["geometry"]) for f in near["features"] + far["features"]]
    centres[0] = (106.451142, 29.618444)
    out = []
    for cx, cy in centres:
        kx = M_PER_DEG * math.cos(math.radians(cy))
        ring = [[cx + 300 * math.cos(2 * math.pi * i / 100) / kx,
                 cy + 300 * math.sin(2 * math.pi * i / 100) / M_PER_DEG] for i in range(100)]
        out.append({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    return out


def _centre(geom: dict[str, Any]) -> tuple[float, float]:
    pts = np.array(geom["coordinates"], dtype=float).reshape(-1, 2)
    return float(pts[:, 0].mean()), float(pts[:, 1].mean())


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank) of a list of milliseconds."""
    ms = sorted(ms)
    return {"p50_ms": statistics.median(ms), "p99_ms": ms[max(math.ceil(len(ms) * 0.99) - 1, 0)],
            "n": len(ms)}


def single(home: Path, rounds: int = 3) -> dict[str, Any]:
    """One in-process screening of a 100-vertex site (C2614, new), all layers, p50/p99."""
    runtime = open_runtime(Settings(home=home), seed=False)
    geoms = sites_100()
    reqs = [ScreeningRequest(site=g, project={"industry": "C2614", "nature": "new"})
            for g in geoms]
    for r in reqs[:20]:
        runtime.service.evaluate(r)  # warm: frames, filter masks
    times = []
    for _ in range(rounds):
        for r in reqs:
            t0 = time.perf_counter()
            runtime.service.evaluate(r)
            times.append((time.perf_counter() - t0) * 1000)
    verdicts = [runtime.service.evaluate(r)["verdict"] for r in reqs]
    out: dict[str, Any] = dict(percentiles(times))
    out["verdicts"] = {v: verdicts.count(v) for v in sorted(set(verdicts))}
    half = len(reqs) // 2  # sites_100: the first half in 沙坪坝, where every layer has data
    dense = [t for k, t in enumerate(times) if k % len(reqs) < half]
    spread = [t for k, t in enumerate(times) if k % len(reqs) >= half]
    out["dense_ratio"] = statistics.mean(dense) / statistics.mean(spread)
    out["features"] = {k: len(lay.geoms) for k, lay in runtime.service.layers().layers.items()}
    return out


def batch_throughput(home: Path, n: int, *, workers: int = 2, seed: int = 7) -> dict[str, Any]:
    """Sites/s for ``n`` parcels: one process (first 5 000), ``workers`` processes, Dask with
    ``workers`` workers; plus whether the three give identical rows.

    Each row is kept as the JSON line a batch job writes to its results file (spatial.batch.jobs),
    as the service does; 100 000 rows kept as dicts would have the collector of this process
    walk millions of objects while the workers' rows arrive (measured: 4 s more CPU in the
    process that hands out the chunks), a cost no user of the service or the CLI pays.
    """
    runtime: Runtime = open_runtime(Settings(home=home), seed=False)
    feats = stressdata.parcels(n, seed=seed)["features"]
    opts = batch.BatchOptions({"nature": "new"})
    source = batch.data_source(runtime.service, runtime.settings.rules_dir)
    one = feats[:5000]
    runtime.service.layers()
    batch.screen_chunk(runtime.service, one[:200], opts)  # warm
    t0 = time.perf_counter()
    rows_one = [to_json(r) for r in batch.rows(runtime.service, one, opts)]
    single_rate = len(one) / (time.perf_counter() - t0)

    rates: dict[str, float] = {}

    def rate_of(name: str) -> batch.Progress:
        def progress(done: int, total: int, rate: float) -> None:
            rates[name] = rate  # sites/s since the workers were warm (layers indexed)
        return progress

    verdicts: Counter[str] = Counter()
    t0 = time.perf_counter()
    pooled = []
    for chunk in batch.run(source, feats, opts, workers=workers, progress=rate_of("pool")):
        verdicts.update(batch.counts(chunk))
        pooled.extend(to_json(r) for r in chunk)
    pool_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    dasked = [to_json(r) for chunk in run_dask(source, feats, opts, workers=workers,
                                               progress=rate_of("dask")) for r in chunk]
    dask_wall = time.perf_counter() - t0
    return {
        "n": n, "workers": workers, "one_process_per_s": single_rate,
        "pool_per_s": rates["pool"], "pool_wall_s": pool_wall,
        "dask_per_s": rates["dask"], "dask_wall_s": dask_wall,
        "identical_pool_vs_one": pooled[:len(one)] == rows_one,
        "identical_dask_vs_pool": dasked == pooled,
        "counts": dict(verdicts),
    }
