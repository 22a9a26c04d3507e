"""Sources: files (batch and tail), HTTP, syslog, Kafka."""
