"""Throughput reports, open data and the rollup tables that keep them fast."""
