"""The Grafana dashboards' generator (python -m deploy.grafana.generate)."""
