"""Resident registry (实有人口): people and households."""
