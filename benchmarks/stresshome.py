"""Data directories for the benchmarks: the demo set, and the stress set (the demo set with
the 100 000-polygon synthetic red line imported through the normal validated import).

Both are built under ``benchmarks/.cache/`` on first use and reused afterwards (delete the
folder to rebuild); the stress layer is generated from a fixed seed, so every rebuild is the
same version.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.settings import Settings
from app.state import open_runtime
from benchmarks import stressdata
from spatial.layers.store import LayerStore, SourceMeta

CACHE = Path(__file__).resolve().parent / ".cache"
STRESS_N = 100_000
SEED = 20261121


def demo_home() -> Path:
    """A data directory seeded from the shipped demo data."""
    home = CACHE / "demo-home"
    open_runtime(Settings(home=home))
    return home


def stress_home(n: int = STRESS_N, seed: int = SEED, log: bool = True) -> Path:
    """The demo data with the synthetic red line (``n`` polygons) active for all Chongqing."""
    home = CACHE / f"stress-home-{n}-{seed}"
    done = home / ".ready"
    if done.exists():
        return home
    open_runtime(Settings(home=home))
    t0 = time.perf_counter()
    gdf = stressdata.redline(n, seed)
    t1 = time.perf_counter()
    meta = SourceMeta(title=f"合成生态保护红线（压力测试，{n} 个图斑）",
                      publisher="redline benchmarks (synthetic)", source_crs="EPSG:4326",
                      accuracy_m=10.0, demo=True,
                      notes=f"benchmarks.stressdata.redline(n={n}, seed={seed})")
    LayerStore(home).import_frame("eco_redline", gdf, meta, loaded_by="benchmarks", activate=True)
    t2 = time.perf_counter()
    if log:
        print(f"stress set: generated {n} polygons in {t1 - t0:.1f} s, validated and imported "
              f"in {t2 - t1:.1f} s", flush=True)
    done.write_text(f"generate_s={t1 - t0:.1f}\nimport_s={t2 - t1:.1f}\n", encoding="utf-8")
    return home


if __name__ == "__main__":
    print(stress_home())
