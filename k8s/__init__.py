"""The Kubernetes manifests' generator (python -m k8s.generate)."""
