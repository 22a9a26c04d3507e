"""Protect stages: tokenize, mask and redact sensitive data before it is stored or forwarded."""
