"""Deployment artefacts and the scripts that render them from the services' declarations (compose, nginx,
Prometheus, Grafana, Alertmanager, capacity), importable as `deploy.*` from the installed project."""
