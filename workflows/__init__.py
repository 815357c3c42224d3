"""The pure domain of the border gate: declarations, stages and the shared state machine.

Standard library and msgspec only: no framework, database, broker, clock or I/O.
"""
