"""Handlers: one function per command or event, dependencies passed in, one commit each."""
