"""Reusable pytest plugins (fixtures for external services), loaded from the root conftest."""
