"""Households (户) API."""
