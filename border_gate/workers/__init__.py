"""Dramatiq workers: the broker, the actors, the outbox relay, and how they run."""
