"""Residents (实有人口) API."""
