"""Detection: Sigma rules, correlation, anomaly detection, compliance packs."""
