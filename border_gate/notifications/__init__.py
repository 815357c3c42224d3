"""Webhook notifications: firms' endpoints, topics from events, signed deliveries with a log."""
