"""Synthetic ID cards and household-register pages with ground truth, for tests and benchmarks."""
