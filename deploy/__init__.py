"""Deployment artefacts and the scripts that render them from deploy/services.yaml (nginx, Prometheus, Grafana,
Alertmanager, capacity), importable as `deploy.*` from the installed project."""
