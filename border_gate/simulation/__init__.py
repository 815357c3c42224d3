"""Simulated traffic for load, for the demo, and for checking the reports against reality."""
