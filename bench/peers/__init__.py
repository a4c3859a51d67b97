"""Peers of the benchmarks: the same work done another way, to compare figures and time."""
