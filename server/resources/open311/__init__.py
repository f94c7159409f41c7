"""Open311 GeoReport v2: how a 12345 hotline or any Open311 client files and follows reports."""
