"""Benchmarks: accuracy and speed targets, compared side by side in one run."""
