"""Real upstream identity providers for the SSO tests, and drivers that sign a user in at them over HTTP.

- ``oidc/``: the npm package ``oidc-provider`` as the city's OIDC provider (plus the education-cloud OAuth2
  user-info variant on the same server).
- ``cas/``: ``django-cas-server`` in a small Django project, as the city's CAS server.
- ``fixtures.py``: the pytest fixtures ``oidc_idp`` and ``cas_idp`` (a plugin registered in tests/conftest.py).
"""
