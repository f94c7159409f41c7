"""Audit log API (admins)."""
