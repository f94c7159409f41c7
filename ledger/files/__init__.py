"""Content-addressed file storage: sniffing, blob stores and upload ingest."""
