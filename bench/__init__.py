"""Benchmarks: run each from the repository root as a module, e.g. ``python -m bench.bench_forwarding``
(``make bench`` runs them all). Development code, not part of the wheel."""
