"""Tests for importing ledger entries from spreadsheets."""
