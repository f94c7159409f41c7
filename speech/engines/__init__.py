"""Speech recognition backends: vosk (deployments) and whisper (default without a Vosk model)."""
