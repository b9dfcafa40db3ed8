"""The platform's common library: config, database and unit of work, bus, auth, errors, metrics, logging.

It knows no domain word: services build on it, it never imports a service.
"""
