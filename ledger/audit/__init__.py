"""Append-only audit log of reveals, exports, logins, role changes and deletes."""
