"""Benchmark scenarios: one module each, discovered by ``bench.run``."""
