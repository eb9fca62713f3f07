"""Benchmarks of the training core against straightforward numpy and torch: ``python -m benchmarks``."""
