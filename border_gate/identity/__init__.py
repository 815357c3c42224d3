"""Organisations, users, passwords and tokens."""
