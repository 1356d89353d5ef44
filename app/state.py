"""Builds the runtime (one per process) from settings: store (seeded on first run), rules, service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from app.settings import Settings
from spatial.batch.jobs import JobManager
from spatial.errors import RequestTimeout
from spatial.layers.accesslist import seed_access_lists
from spatial.layers.ingest import seed_demo
from spatial.layers.store import LayerStore
from spatial.ruleset import RuleSet, load_ruleset
from spatial.sandbox import Sandbox
from spatial.service import ScreeningService


@dataclass
class Runtime:
    """The running service's parts (settings, store, rules, screening service, batch jobs,
    sandbox): everything a request or CLI command needs, created once per process."""

    settings: Settings
    store: LayerStore
    rules: RuleSet
    service: ScreeningService
    _jobs: JobManager | None = None
    _limiter: anyio.CapacityLimiter | None = None
    _sandbox: Sandbox | None = None

    def limiter(self) -> anyio.CapacityLimiter:
        """Threads that may screen at once in this process. Evaluation is serialised by the
        GEOS lock anyway; a few threads (one screening, others parsing or storing) keep their
        per-thread caches warm, where dozens of blocked threads only contend for the GIL."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.screening_threads)
        return self._limiter

    def sandbox(self) -> Sandbox:
        """Worker processes for screenings that may be costly (created on first use)."""
        if self._sandbox is None:
            s = self.settings
            self._sandbox = Sandbox(s.home, s.rules_dir, workers=s.sandbox_workers,
                                    memory_bytes=s.sandbox_memory_mb << 20)
        return self._sandbox

    async def sandboxed(self, task: str, *args: Any) -> Any:
        """Run a sandbox task under the request time limit; its worker is killed when the time
        runs out (``RequestTimeout``, 503). The wait here is a little longer than the limit,
        so the sandbox's own answer comes first."""
        timeout = self.settings.request_timeout_s
        fut = self.sandbox().submit(task, *args, timeout_s=timeout)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), timeout=timeout + 15)
        except TimeoutError as exc:  # pragma: no cover - the sandbox answers first
            raise RequestTimeout("筛查超时，请简化场址或稍后重试", "The screening timed out",
                                 code="request.timeout") from exc

    def uploads(self) -> Path:
        """The directory uploads are written to while they are read (made on first use)."""
        self.settings.upload_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.settings.upload_dir

    def jobs(self) -> JobManager:
        """The batch job manager (created on first use; the CLI never needs one)."""
        if self._jobs is None:
            self._jobs = JobManager(self.service, self.settings.rules_dir,
                                    workers=self.settings.batch_workers)
        return self._jobs


def open_runtime(settings: Settings, *, seed: bool | None = None) -> Runtime:
    """Validate the rules, open the data directory and seed it from the demo data if empty."""
    rules = load_ruleset(settings.rules_dir)
    store = LayerStore(settings.home)
    if (settings.seed_demo if seed is None else seed) and store.is_empty():
        seed_demo(store, settings.demo_manifest)
        seed_access_lists(store, settings.demo_manifest.parent / "access_lists.yaml",
                          rules.catalogue)
    return Runtime(settings, store, rules, ScreeningService(store, rules))
