"""Builds the engine objects from settings: store (seeded on first run), rules, service."""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from app.settings import Settings
from spatial.jobs import JobManager
from spatial.ruleset import RuleSet, load_ruleset
from spatial.service import ScreeningService
from spatial.store import LayerStore


@dataclass
class Engine:
    """Everything a request or CLI command needs, created once per process."""

    settings: Settings
    store: LayerStore
    rules: RuleSet
    service: ScreeningService
    _jobs: JobManager | None = None
    _limiter: anyio.CapacityLimiter | None = None

    def limiter(self) -> anyio.CapacityLimiter:
        """Threads that may screen at once in this process. Evaluation is serialised by the
        GEOS lock anyway; a few threads (one screening, others parsing or storing) keep their
        per-thread caches warm, where dozens of blocked threads only contend for the GIL."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.screening_threads)
        return self._limiter

    def jobs(self) -> JobManager:
        """The batch job manager (created on first use; the CLI never needs one)."""
        if self._jobs is None:
            self._jobs = JobManager(self.service, self.settings.rules_dir,
                                    workers=self.settings.batch_workers)
        return self._jobs


def open_engine(settings: Settings, *, seed: bool | None = None) -> Engine:
    """Validate the rules, open the data directory and seed it from the demo data if empty."""
    rules = load_ruleset(settings.rules_dir)
    store = LayerStore(settings.home)
    if (settings.seed_demo if seed is None else seed) and store.is_empty():
        store.seed_from_manifest(settings.demo_manifest)
    return Engine(settings, store, rules, ScreeningService(store, rules))
