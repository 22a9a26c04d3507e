"""Protection of the pipeline itself: audit log, encryption at rest, TLS, retention policy."""
