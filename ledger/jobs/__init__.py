"""Background jobs (exports, imports): their state in the database, visible to every process."""
