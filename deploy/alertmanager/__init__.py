"""Alertmanager's routing tree renderer, also used by k8s.generate and make run."""
