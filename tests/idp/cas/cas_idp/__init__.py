"""A small Django project around django-cas-server: the city's CAS server for the SSO tests."""
