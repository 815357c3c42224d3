"""The HTTP API under /api/v1: controllers, auth, problems, conventions."""
