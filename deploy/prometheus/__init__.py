"""Prometheus's config renderer and the metrics catalogue the alert and dashboard checks read."""
