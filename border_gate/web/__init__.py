"""Server-rendered pages for firms, officers, the yard and management, over the application services."""

from border_gate.web.plugin import web_plugin

__all__ = ["web_plugin"]
