"""Running background jobs: in this process by default, on a Redis queue when configured."""
