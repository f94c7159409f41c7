"""Ledger exports: rows streamed from the database into xlsx, csv or pdf files."""
