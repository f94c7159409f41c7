"""User accounts API (admins)."""
