"""Authentication (tokens, sessions, throttling) and the one place roles are checked."""
