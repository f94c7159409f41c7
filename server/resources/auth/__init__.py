"""Login, refresh and logout API."""
