"""Yard operator: which slot a truck gets at gate-in, and whether the yard is full."""

from __future__ import annotations


def slot_name(number: int) -> str:
    return f"P{number:03d}"


def assign_position(capacity: int, occupied: set[str]) -> str | None:
    """The lowest free slot (P001, P002, …) of a yard with `capacity` slots, or None if full."""
    for number in range(1, capacity + 1):
        name = slot_name(number)
        if name not in occupied:
            return name
    return None
