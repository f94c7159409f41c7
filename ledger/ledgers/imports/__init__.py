"""Reading ledger entries from spreadsheets clerks fill in by hand (xlsx and CSV)."""
