"""The one place that reads the environment: paths, limits and service options."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Service settings, from ``REDLINE_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="REDLINE_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path(user_data_dir("redline", appauthor=False)),
                       description="Data directory: layer versions, catalogue, screenings")
    rules_dir: Path = REPO_ROOT / "rules"
    demo_manifest: Path = REPO_ROOT / "data" / "layers.yaml"
    seed_demo: bool = Field(True, description="Seed an empty data directory from the demo data")
    max_body_bytes: int = Field(20 * 1024 * 1024, gt=0, description="Screening request bodies")
    max_upload_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Layer uploads")
    tile_url: str | None = Field(None, description="Optional base-map tile URL (e.g. 天地图)")
    tile_attribution: str = ""
    anonymous_rate_per_minute: int = Field(
        120, ge=0, description="Anonymous screenings per client and minute (0 = unlimited)")
    trust_forwarded_for: bool = Field(False, description="Behind a proxy: key clients by "
                                                          "X-Forwarded-For")
    cors_origins: list[str] = Field(default_factory=list, description="CORS origins; off if empty")
    batch_sync_max: int = Field(200, ge=0, description="Largest batch answered synchronously")
    batch_max_sites: int = Field(1_000_000, gt=0, description="Largest batch job")
    batch_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, gt=0,
                               description="Worker processes of a batch job")
    # Evaluation is serialised per process (GEOS prepared geometries), and storing runs on
    # its own thread, so more screening threads only fight over the GIL: measured at 32
    # clients, 1 thread gave 215 req/s and 3 threads 179 req/s.
    screening_threads: int = Field(1, gt=0, description="Threads per process that screen at "
                                                        "once (others wait in the event loop)")
    request_timeout_s: float = Field(30.0, gt=0, description="Time limit of one screening")
    sandbox_workers: int = Field(1, gt=0, description="Worker processes per service process "
                                                      "for screenings that are not parcel-sized "
                                                      "and for uploaded site files")
    sandbox_memory_mb: int = Field(4096, ge=512, description="Address-space limit of each "
                                                             "sandbox worker (MiB)")
    sandbox_warm: bool = Field(True, description="Start the sandbox workers with the service")
    upload_dir: Path = Field(default_factory=lambda: Path(tempfile.gettempdir())
                             / "redline-uploads",
                             description="Where uploads are kept while they are read; never "
                                         "inside the data directory")
    chromium: str = Field("/usr/bin/chromium", description="Chromium used to print PDF reports")

    @field_validator("home", "rules_dir", "demo_manifest", "upload_dir", mode="after")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @model_validator(mode="after")
    def _uploads_apart(self) -> Settings:
        if self.upload_dir == self.home or self.home in self.upload_dir.parents:
            raise ValueError("upload_dir must not be inside the data directory (home)")
        return self
