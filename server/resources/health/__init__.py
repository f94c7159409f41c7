"""Health check API."""
