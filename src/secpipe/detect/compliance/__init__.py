"""Compliance packs: controls as Sigma rules, Compliance Findings (2003), framework reports."""
