"""Community records domain: areas, residents, households, audit, files and ledgers (no Flask)."""
