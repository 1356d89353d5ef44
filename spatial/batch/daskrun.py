"""The same batch on Dask: dask-geopandas partitions the parcels, Dask schedules the chunks.

The parcels become a dask-geopandas GeoDataFrame, spatially shuffled (Hilbert curve) so each
partition holds neighbouring parcels — their index queries then touch the same part of each
layer, and their local metric frames repeat. Every partition is screened by
``batch.screen_chunk`` in a Dask worker process that opened the data directory itself with the
layer versions pinned by the caller, so results are identical to the in-process path.

On a real cluster (``--scheduler tcp://host:8786``) every worker needs this package installed
(same version and rules) and the data directory at the same path, read-only is enough; see
README "在 Dask 集群上运行".
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from spatial.batch.chunks import CHUNK, BatchOptions, DataSource, Progress, screen_chunk, warm, worker_service


def _anchor(feature: Any) -> shapely.Geometry | None:
    """A point to place a parcel on the Hilbert curve (None for unreadable geometry)."""
    try:
        geom = shapely.from_geojson(json.dumps(feature["geometry"]))
        return None if geom is None or geom.is_empty else shapely.point_on_surface(geom)
    except Exception:  # broken sites are placed last; screening reports them
        return None


def _screen_partition(part: pd.DataFrame, source: DataSource, opts: BatchOptions) -> pd.DataFrame:
    service = worker_service(source)
    feats = [json.loads(raw) for raw in part["feature"]]
    idx = [int(i) for i in part["index"]]
    out = []
    for a in range(0, len(feats), CHUNK):
        out.extend(screen_chunk(service, feats[a:a + CHUNK], opts, versions=source.versions,
                                indices=idx[a:a + CHUNK]))
    return pd.DataFrame({"index": [r["index"] for r in out],
                         "row": [json.dumps(r, ensure_ascii=False) for r in out]})


def run_dask(source: DataSource, features: list[Any], opts: BatchOptions, *,
             scheduler: str | None = None, workers: int = 2, partitions: int | None = None,
             progress: Progress | None = None) -> Iterator[list[dict[str, Any]]]:
    """Screen all features on a Dask cluster (LocalCluster unless ``scheduler``); yields the
    rows in input order once every partition is back."""
    import dask_geopandas
    from dask.distributed import Client, LocalCluster, as_completed

    total = len(features)
    gdf = gpd.GeoDataFrame(
        {"index": range(total), "feature": [json.dumps(f, ensure_ascii=False) for f in features]},
        geometry=[_anchor(f) for f in features], crs="EPSG:4326")
    nparts = partitions or max(workers * 4, min(total // 2000, 512), 1)
    ddf = dask_geopandas.from_geopandas(gdf, npartitions=nparts).spatial_shuffle(by="hilbert")
    meta = pd.DataFrame({"index": pd.Series(dtype="int64"), "row": pd.Series(dtype="object")})
    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1,
                                                  processes=True, dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            client.run(warm, source)  # every worker indexes the layers first
            started = time.monotonic()
            parts = ddf.drop(columns="geometry").map_partitions(
                _screen_partition, source, opts, meta=meta).to_delayed()
            futures = client.compute(parts)
            done = 0
            rows: list[dict[str, Any]] = []
            for fut in as_completed(futures):
                frame = fut.result()
                rows.extend(json.loads(r) for r in frame["row"])
                done += len(frame)
                if progress:
                    progress(done, total, done / max(time.monotonic() - started, 1e-9))
    finally:
        if cluster is not None:
            cluster.close()
    rows.sort(key=lambda r: r["index"])
    yield rows
