"""The HTTP server of `secpipe up`: ingest routes, query API, auth, health."""
