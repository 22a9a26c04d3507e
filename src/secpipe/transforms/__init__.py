"""Transforms: ``Stage.process(batch) -> list[RecordBatch]`` steps (enrich, protect, route)."""
