"""Speech dictation: recorded uploads and live WebSocket streams."""
