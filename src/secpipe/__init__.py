"""secpipe: a security data pipeline for DevSecOps teams.

Ingest security telemetry, normalize it to OCSF 1.8.0, enrich and protect it, store it in a
partitioned Parquet lake, detect and alert. See README.md and DESIGN.md.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
