"""Entrypoints: the web API, the worker and the operator commands."""
