"""Files API: content-addressed uploads and authorised downloads."""
