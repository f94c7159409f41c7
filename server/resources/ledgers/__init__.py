"""Ledger templates and entries (社区电子台账)."""
