"""Benchmarks (`make bench`): figures printed, nothing asserted. See BENCHMARKS.md."""
