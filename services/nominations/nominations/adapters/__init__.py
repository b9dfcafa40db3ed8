"""Adapters: tables, repositories, the policy loader, metrics and exports."""
