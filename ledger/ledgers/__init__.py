"""Electronic community ledgers (社区电子台账): templates, entries, exports and imports."""
