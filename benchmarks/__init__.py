"""Benchmark suite: ``python -m benchmarks`` (not part of the unit tests)."""
