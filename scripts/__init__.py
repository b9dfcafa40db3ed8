"""The operators' and developers' scripts (make run's supervisor, backups, the authorization matrix), run as
modules from the repository root: python -m scripts.<name>."""
