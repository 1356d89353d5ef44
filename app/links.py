"""The HTTP paths of the service's resources, for the ``links`` blocks of its responses (the
engine in ``spatial/`` knows no URLs; paths are relative to the service root)."""

from __future__ import annotations

from typing import Any

SCREENINGS = "/api/v1/screenings"
BATCH = "/api/v1/screenings/batch"


def screening_links(screening_id: str) -> dict[str, str]:
    """A stored screening's document, map preview and printable report."""
    base = f"{SCREENINGS}/{screening_id}"
    return {"self": base, "map": f"{base}/map", "report": f"{base}/report"}


def with_links(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored verdict document with its ``links`` block (last, as documents have it)."""
    return {**{k: v for k, v in doc.items() if k != "links"},
            "links": screening_links(doc["id"])}


def job_links(job_id: str) -> dict[str, str]:
    """A batch job's status, cancel and result downloads."""
    base = f"{BATCH}/{job_id}"
    return {"self": base, "cancel": f"{base}/cancel",
            "results_geojson": f"{base}/results?format=geojson",
            "results_csv": f"{base}/results?format=csv"}


def with_job_links(status: dict[str, Any]) -> dict[str, Any]:
    """A job status with its ``links`` block."""
    return {**status, "links": job_links(status["id"])}
