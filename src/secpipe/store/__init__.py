"""Storage: write-ahead log, Parquet lake, dead-letter store, DuckDB query."""
