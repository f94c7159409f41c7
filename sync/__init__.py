"""Offline sync: change log, idempotent pushes, field-level merge, conflicts and id remaps."""
