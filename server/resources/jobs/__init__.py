"""Export and import jobs: start, poll, download."""
