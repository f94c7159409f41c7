"""Offline sync endpoints: native push/pull/conflicts and the WatermelonDB protocol."""
